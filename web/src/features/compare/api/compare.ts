import type { InsightsOut } from '@server/insights/insights.schema.js'
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useRef } from 'react'
import { ApiError, api } from '../../../lib/api-client'
import { RANGES, type Range } from '../../targets/api/targets'

// Every compared target's insights (GET /targets/:id/insights, what the target page reads) for one
// window, requested in parallel. A preset range is sent as one fixed [from, to) for all of them, so
// their buckets (aligned to the epoch) fall at the same times. One target's failure is that target's
// answer, not the page's: the others still draw.

export type CompareResult = { id: number; ok: true; insights: InsightsOut } | { id: number; ok: false; error: Error; notFound: boolean }

function windowOf(r: Range, now: number): { from: string; to: string } {
  const minutes = 'key' in r ? RANGES.find((x) => x.key === r.key)!.minutes : 0
  return 'key' in r
    ? { from: new Date(now - minutes * 60_000).toISOString(), to: new Date(now).toISOString() }
    : { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }
}

export function useCompareInsights(ids: readonly number[], r: Range) {
  // A target found missing is not asked again on every refresh (each 404 is a console line too).
  const missing = useRef(new Map<number, CompareResult>())
  const minutes = 'key' in r ? RANGES.find((x) => x.key === r.key)!.minutes : Infinity
  return useQuery({
    queryKey: ['compare', ids.join(','), r],
    queryFn: async ({ signal }): Promise<CompareResult[]> => {
      const window = windowOf(r, Date.now())
      return Promise.all(
        ids.map(async (id): Promise<CompareResult> => {
          const gone = missing.current.get(id)
          if (gone) return gone
          try {
            return { id, ok: true, insights: await api.get<InsightsOut>(`/targets/${id}/insights`, window, signal) }
          } catch (err) {
            if ((err as Error).name === 'AbortError') throw err
            const notFound = err instanceof ApiError && err.status === 404
            const result: CompareResult = { id, ok: false, error: err as Error, notFound }
            if (notFound) missing.current.set(id, result)
            return result
          }
        }),
      )
    },
    placeholderData: keepPreviousData,
    refetchInterval: minutes <= 60 ? 10_000 : minutes <= 1440 ? 60_000 : false,
  })
}
