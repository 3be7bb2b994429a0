import type { EventOut } from '@server/events/events.schema.js'
import type { InsightsOut } from '@server/insights/insights.schema.js'
import type { LogOut } from '@server/samples/samples.schema.js'
import type { TargetCreate, TargetOut, TargetUpdate, targetStatusOut } from '@server/targets/targets.schema.js'
import type { TracerouteOut } from '@server/traceroute/traceroute.schema.js'
import { keepPreviousData, useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query'
import type { z } from 'zod'
import { api } from '../../../lib/api-client'

export type { EventOut, InsightsOut, LogOut, TargetOut, TracerouteOut }
/** What the forms send: the create body before the API applies its defaults. */
export type TargetInput = Partial<TargetCreate> & { ip: string }
export type TargetPatch = Partial<{ [K in keyof TargetUpdate]: TargetUpdate[K] | null }>
export type StatusMessage = z.infer<typeof targetStatusOut>

export const RANGES = [
  { key: '15m', label: '15 m', minutes: 15 },
  { key: '1h', label: '1 h', minutes: 60 },
  { key: '6h', label: '6 h', minutes: 360 },
  { key: '24h', label: '24 h', minutes: 1440 },
  { key: '7d', label: '7 d', minutes: 10_080 },
  { key: '30d', label: '30 d', minutes: 43_200 },
  { key: '1y', label: '1 y', minutes: 525_600 },
] as const
export type RangeKey = (typeof RANGES)[number]['key']
/** A preset window ending now, or a zoomed [from, to) in epoch ms. */
export type Range = { key: RangeKey } | { from: number; to: number }

const keys = {
  target: (id: number) => ['targets', id] as const,
  insights: (id: number, r: Range, site: string | null) => ['insights', id, r, site] as const,
  logs: (id: number, site: string | null) => ['logs', id, site] as const,
  events: (id: number) => ['targets', id, 'events'] as const,
  traceroutes: (id: number) => ['traceroutes', id] as const,
}

export const useTarget = (id: number, enabled = true) =>
  useQuery({ queryKey: keys.target(id), queryFn: ({ signal }) => api.get<TargetOut>(`/targets/${id}`, undefined, signal), enabled })

function insightsQuery(r: Range, site: string | null) {
  const w = 'key' in r ? { window_minutes: RANGES.find((x) => x.key === r.key)!.minutes } : { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }
  return site === null ? w : { ...w, site }
}

/** Short live windows refresh themselves; long ones are history and stay put. */
function insightsOptions(id: number, r: Range, site: string | null) {
  const minutes = 'key' in r ? RANGES.find((x) => x.key === r.key)!.minutes : Infinity
  return {
    queryKey: keys.insights(id, r, site),
    queryFn: ({ signal }: { signal: AbortSignal }) => api.get<InsightsOut>(`/targets/${id}/insights`, insightsQuery(r, site), signal),
    placeholderData: keepPreviousData,
    refetchInterval: minutes <= 60 ? 10_000 : minutes <= 1440 ? 60_000 : false,
  } as const
}

/** The window's insights, measured from one site, or from all sites combined (site null). */
export const useInsights = (id: number, r: Range, site: string | null = null) => useQuery(insightsOptions(id, r, site))

/** Every answer once all have one (undefined before): module-level, so useQueries keeps its result stable. */
const allAnswered = (results: { data?: InsightsOut | undefined }[]): InsightsOut[] | undefined =>
  results.every((q) => q.data !== undefined) ? results.map((q) => q.data!) : undefined

/**
 * One site's insights each, for the per-site lines: the same window, so buckets at the same times as the
 * combined answer (bucket edges are aligned to the bucket width). Undefined until every site has answered.
 */
export const useSiteInsights = (id: number, r: Range, sites: readonly string[]) =>
  useQueries({ queries: sites.map((site) => insightsOptions(id, r, site)), combine: allAnswered })

export const useLogs = (id: number, site: string | null = null) =>
  useQuery({
    queryKey: keys.logs(id, site),
    queryFn: ({ signal }) => api.get<LogOut[]>(`/targets/${id}/logs`, { limit: 50, ...(site ? { site } : {}) }, signal),
    refetchInterval: 10_000,
  })

export const useEvents = (id: number, enabled = true) =>
  useQuery({ queryKey: keys.events(id), queryFn: ({ signal }) => api.get<EventOut[]>(`/targets/${id}/events`, { limit: 50 }, signal), enabled })

export const useTraceroutes = (id: number) =>
  useQuery({ queryKey: keys.traceroutes(id), queryFn: ({ signal }) => api.get<TracerouteOut[]>(`/targets/${id}/traceroutes`, { limit: 20 }, signal) })

export function useRunTraceroute(id: number) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: () => api.post<TracerouteOut>(`/targets/${id}/traceroute`),
    onSuccess: (t) => {
      qc.setQueryData<TracerouteOut[]>(keys.traceroutes(id), (old) => [t, ...(old ?? []).filter((o) => o.id !== t.id)])
      void qc.invalidateQueries({ queryKey: keys.events(id) })
    },
  })
}

/** Pause, resume or delete; the target queries refresh (the live stream also says so to everyone). */
export function useTargetAction(id: number) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (action: 'pause' | 'resume' | 'delete') =>
      action === 'delete' ? api.delete<StatusMessage>(`/targets/${id}`) : api.post<StatusMessage>(`/targets/${id}/${action}`),
    onSuccess: (_r, action) => {
      // A deleted target's own queries are left alone: its page is still mounted until the caller
      // navigates away, and reading them again would only answer 404.
      void qc.invalidateQueries({ queryKey: ['targets'], predicate: (q) => action !== 'delete' || q.queryKey[1] !== id })
    },
  })
}

export function useUpdateTarget(id: number) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (patch: TargetPatch) => api.patch<TargetOut>(`/targets/${id}`, patch),
    onSuccess: (t) => {
      qc.setQueryData(keys.target(id), t)
      void qc.invalidateQueries({ queryKey: ['targets'] })
    },
  })
}

export const createTarget = (body: TargetInput) => api.post<StatusMessage>('/targets/', body)

/** The raw samples of a window as CSV (GET /targets/{id}/logs/export), saved by the browser. */
/** The window's raw samples as CSV; `site`: only what that site measured. */
export const exportCsv = (id: number, from?: string, to?: string, site?: string | null) =>
  api.download(`/targets/${id}/logs/export`, { from, to, ...(site ? { site } : {}) })
