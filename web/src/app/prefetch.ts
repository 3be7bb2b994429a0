import type { FleetSummaryOut } from '@server/fleet/fleet.schema.js'
import type { TargetOut } from '@server/targets/targets.schema.js'
import type { QueryClient } from '@tanstack/react-query'
import { api } from '../lib/api-client'

// The fleet page's two requests start together with the session check (GET /auth/me) instead of after
// it: a cold load of the fleet then waits for the slowest of the three, not for their sum. The keys and
// requests are those of features/fleet/api/fleet.ts (useTargets, useFleetSummary), which then find
// their answers in the cache. If the session turns out expired, the 401s end it as any request does.
// On a cold load of `/`, index.html has sent all three before the bundle loaded: api-client takes those
// answers over (lib/early-fetch.ts) instead of asking again.

export function prefetchFleet(queryClient: QueryClient): void {
  void queryClient.prefetchQuery({ queryKey: ['targets', 'list'], queryFn: ({ signal }) => api.get<TargetOut[]>('/targets/', undefined, signal) })
  void queryClient.prefetchQuery({ queryKey: ['fleet-summary'], queryFn: ({ signal }) => api.get<FleetSummaryOut>('/fleet/summary', undefined, signal) })
}
