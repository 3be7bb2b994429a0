import type { apiTokenOut, messageOut, tokenCreateBody, userCreateBody, userOut, userUpdateBody } from '@server/auth/auth.schema.js'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { z } from 'zod'
import { api } from '../../../lib/api-client'

export type User = z.infer<typeof userOut>
export type ApiToken = z.infer<typeof apiTokenOut>
export type NewApiToken = ApiToken & { token: string }

export const useUsers = (opts: { enabled?: boolean } = {}) => useQuery({ queryKey: ['users'], queryFn: () => api.get<User[]>('/users'), enabled: opts.enabled ?? true })
export const useTokens = () => useQuery({ queryKey: ['tokens'], queryFn: () => api.get<ApiToken[]>('/tokens') })

export function useCreateUser() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: z.input<typeof userCreateBody>) => api.post<User>('/users', body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users'] }),
  })
}

export function useUpdateUser() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: ({ id, ...body }: { id: number } & z.input<typeof userUpdateBody>) => api.patch<User>(`/users/${id}`, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users'] }),
  })
}

export function useCreateToken() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: z.input<typeof tokenCreateBody>) => api.post<NewApiToken>('/tokens', body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tokens'] }),
  })
}

export function useRevokeToken() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (id: number) => api.delete<z.infer<typeof messageOut>>(`/tokens/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tokens'] }),
  })
}
