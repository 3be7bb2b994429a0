import type { IncidentOut, Severity, incidentDetailOut } from '@server/alerts/alerts.schema.js'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { z } from 'zod'
import { api } from '../../../lib/api-client'

export type { IncidentOut, Severity }
export type IncidentDetail = z.infer<typeof incidentDetailOut>
export type Notification = IncidentDetail['notifications'][number]

/** Incidents change on the evaluator's clock (ALERTS_EVAL_S, 10 s by default): lists follow it. */
export const REFRESH_MS = 10_000

export interface IncidentFilter {
  state: 'open' | 'all'
  severity: Severity | ''
  unacknowledged: boolean
}

export const HISTORY_PAGE = 25

const keys = {
  all: ['incidents'] as const,
  list: (q: Record<string, unknown>) => ['incidents', 'list', q] as const,
  detail: (id: number) => ['incidents', id] as const,
}

function listQuery(f: IncidentFilter) {
  return { severity: f.severity || undefined, acknowledged: f.unacknowledged ? 'false' : undefined }
}

/** The open incidents matching the filter (all of them: there are few at a time). */
export function useOpenIncidents(f: IncidentFilter) {
  const query = { ...listQuery(f), state: 'open', limit: 1000 }
  return useQuery({
    queryKey: keys.list(query),
    queryFn: ({ signal }) => api.page<IncidentOut>('/incidents', query, signal),
    refetchInterval: REFRESH_MS,
  })
}

/** Closed incidents, newest first, a page at a time. */
export function useIncidentHistory(f: IncidentFilter, page: number) {
  const query = { ...listQuery(f), state: 'closed', limit: HISTORY_PAGE, offset: page * HISTORY_PAGE }
  return useQuery({
    queryKey: keys.list(query),
    queryFn: ({ signal }) => api.page<IncidentOut>('/incidents', query, signal),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
  })
}

export const useIncident = (id: number) =>
  useQuery({ queryKey: keys.detail(id), queryFn: ({ signal }) => api.get<IncidentDetail>(`/incidents/${id}`, undefined, signal), refetchInterval: REFRESH_MS })

function useIncidentMutation<A>(id: number, fn: (a: A) => Promise<IncidentOut>) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: fn,
    onSuccess: (inc) => {
      qc.setQueryData<IncidentDetail>(keys.detail(id), (old) => (old ? { ...old, ...inc } : old))
      void qc.invalidateQueries({ queryKey: keys.all })
    },
  })
}

export const useAcknowledge = (id: number) => useIncidentMutation(id, () => api.post<IncidentOut>(`/incidents/${id}/ack`))

export const useAddNote = (id: number) => useIncidentMutation(id, (text: string) => api.post<IncidentOut>(`/incidents/${id}/notes`, { text }))

/** Refreshes every incident query now (after an outage opened or closed, say). */
export function useRefreshIncidents() {
  const qc = useQueryClient()
  return () => void qc.invalidateQueries({ queryKey: keys.all })
}
