import type { TargetOut } from '@server/targets/targets.schema.js'
import type { FleetSummaryOut } from '@server/fleet/fleet.schema.js'
import { useQuery } from '@tanstack/react-query'
import { api } from '../../../lib/api-client'

export type { FleetSummaryOut, TargetOut }

/** Every target with its state and last sample: one request, refreshed by live `targets` events. */
export const useTargets = () => useQuery({ queryKey: ['targets', 'list'], queryFn: ({ signal }) => api.get<TargetOut[]>('/targets/', undefined, signal) })

/** Last-hour loss, p95 and sparklines of all targets in one request, once a minute. */
export const useFleetSummary = () =>
  useQuery({ queryKey: ['fleet-summary'], queryFn: ({ signal }) => api.get<FleetSummaryOut>('/fleet/summary', undefined, signal), refetchInterval: 60_000 })
