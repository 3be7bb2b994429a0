import type { PublicStatusOut, StatusPageOut, statusPageBody, statusPageDeletedOut } from '@server/status-page/status-page.schema.js'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { z } from 'zod'
import { api } from '../../../lib/api-client'

export type { PublicStatusOut, StatusPageOut }
export type PublicTarget = PublicStatusOut['targets'][number]
export type UptimeBar = PublicTarget['bars'][number]

/** The public page of a tag (no sign-in needed); refreshed every minute, as long as the API caches it. */
export const usePublicStatus = (tag: string) =>
  useQuery({
    queryKey: ['public-status', tag],
    queryFn: ({ signal }) => api.get<PublicStatusOut>(`/public/status/${encodeURIComponent(tag)}`, undefined, signal),
    refetchInterval: 60_000,
  })

export const useStatusPages = () => useQuery({ queryKey: ['status-pages'], queryFn: () => api.get<StatusPageOut[]>('/status-pages') })

export function usePutStatusPage() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: ({ tag, ...body }: { tag: string } & z.input<typeof statusPageBody>) => api.put<StatusPageOut>(`/status-pages/${encodeURIComponent(tag)}`, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['status-pages'] }),
  })
}

export function useDeleteStatusPage() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (tag: string) => api.delete<z.infer<typeof statusPageDeletedOut>>(`/status-pages/${encodeURIComponent(tag)}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['status-pages'] }),
  })
}
