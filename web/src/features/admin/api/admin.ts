import type { apiTokenOut, userOut } from '@server/auth/auth.schema.js'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { z } from 'zod'
import { api } from '../../../lib/api-client'

export type User = z.infer<typeof userOut>
export type ApiToken = z.infer<typeof apiTokenOut>
export type NewApiToken = ApiToken & { token: string }

export const useUsers = (enabled: boolean) => useQuery({ queryKey: ['users'], queryFn: () => api.get<User[]>('/users'), enabled })
export const useTokens = () => useQuery({ queryKey: ['tokens'], queryFn: () => api.get<ApiToken[]>('/tokens') })

export function useCreateUser() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: { username: string; password: string; role: 'admin' | 'viewer' }) => api.post<User>('/users', body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users'] }),
  })
}

export function useUpdateUser() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: ({ id, ...body }: { id: number; role?: 'admin' | 'viewer'; disabled?: boolean; password?: string }) => api.patch<User>(`/users/${id}`, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users'] }),
  })
}

export function useCreateToken() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: { name: string; expires_in_days?: number }) => api.post<NewApiToken>('/tokens', body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tokens'] }),
  })
}

export function useRevokeToken() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (id: number) => api.delete<{ message: string }>(`/tokens/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tokens'] }),
  })
}
