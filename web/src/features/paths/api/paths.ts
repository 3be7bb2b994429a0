import type { PathDiffOut, PathHistoryOut, ScheduleOut } from '@server/traceroute/traceroute.schema.js'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../../../lib/api-client'
import { RANGES, type Range } from '../../targets/api/targets'

// Scheduled traceroutes of a target and the path history they build (MTR-style): the schedule (GET for
// everyone, PUT/DELETE for admins), the runs of a window hop by hop, and two runs side by side.

export type { PathDiffOut, PathHistoryOut, ScheduleOut }
export type PathRun = PathHistoryOut['runs'][number]
export type PathSummary = PathHistoryOut['paths'][number]

/** The most runs one window shows (the API's default: the newest of the window). */
export const HISTORY_LIMIT = 500

const keys = {
  schedule: (id: number) => ['paths', id, 'schedule'] as const,
  history: (id: number, r: Range) => ['paths', id, 'history', r] as const,
  diff: (id: number, a: number, b: number) => ['paths', id, 'diff', a, b] as const,
}

/** The schedule, or null when the target has none. */
export function useSchedule(id: number) {
  return useQuery({
    queryKey: keys.schedule(id),
    queryFn: async ({ signal }) => {
      return api.get<ScheduleOut | null>(`/targets/${id}/traceroute-schedule`, undefined, signal)
    },
    // Quickly while a run is due (the first one is due at once), then at the pace of a short window.
    refetchInterval: (q) => {
      const s = q.state.data
      if (!s) return false
      return s.last_run_at === null || Date.parse(s.next_run_at) <= Date.now() ? 2_000 : 10_000
    },
  })
}

function windowQuery(r: Range) {
  if ('from' in r) return { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), limit: HISTORY_LIMIT }
  const minutes = RANGES.find((x) => x.key === r.key)!.minutes
  return { from: new Date(Date.now() - minutes * 60_000).toISOString(), limit: HISTORY_LIMIT }
}

/** The runs of the page's window; a window ending now follows new runs while a schedule is on. */
export function usePathHistory(id: number, r: Range, following: boolean) {
  return useQuery({
    queryKey: keys.history(id, r),
    queryFn: ({ signal }) => api.get<PathHistoryOut>(`/targets/${id}/path-history`, windowQuery(r), signal),
    placeholderData: keepPreviousData,
    refetchInterval: following && 'key' in r ? 5_000 : false,
  })
}

export function usePathDiff(id: number, pair: [number, number] | null) {
  return useQuery({
    queryKey: keys.diff(id, pair?.[0] ?? 0, pair?.[1] ?? 0),
    queryFn: ({ signal }) => api.get<PathDiffOut>(`/targets/${id}/path-diff`, { a: pair![0], b: pair![1] }, signal),
    enabled: pair !== null,
    staleTime: Infinity, // two stored runs never change
  })
}

/** Sets (interval and probes per hop) or removes the schedule; the history follows. */
export function useScheduleChange(id: number) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: { interval_s: number; queries: number; max_hops?: number } | null) =>
      body ? api.put<ScheduleOut>(`/targets/${id}/traceroute-schedule`, body) : api.delete<unknown>(`/targets/${id}/traceroute-schedule`).then(() => null),
    onSuccess: (s) => {
      qc.setQueryData(keys.schedule(id), s)
      void qc.invalidateQueries({ queryKey: ['paths', id, 'history'] })
    },
  })
}
