import type { EventType, TimelineEventOut } from '@server/events/events.schema.js'
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query'
import { useCallback } from 'react'
import { api } from '../../../lib/api-client'

export type { TimelineEventOut }

export const EVENTS_PAGE = 100

/** The timeline's filter chips: each a group of event types. */
export const EVENT_GROUPS = {
  outages: { label: 'Outages', types: ['outage_open', 'outage_close'] },
  alerts: { label: 'Alerts', types: ['incident_open', 'incident_resolved'] },
  paths: { label: 'Path changes', types: ['path_change'] },
  changes: { label: 'Changes', types: ['created', 'updated', 'deleted', 'start', 'stop'] },
} as const satisfies Record<string, { label: string; types: readonly EventType[] }>
export type EventGroup = keyof typeof EVENT_GROUPS
export const GROUP_NAMES = Object.keys(EVENT_GROUPS) as EventGroup[]

/** How far back the timeline looks; `all` has no lower bound. */
export const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, all: null } as const
export type EventRange = keyof typeof RANGES

export interface TimelineFilter {
  range: EventRange
  groups: EventGroup[] // empty: every type
  tag: string
  /** Start of the window, fixed when the filter was chosen (ms), so that pages line up. */
  from: number | null
}

const keys = { all: ['timeline'] as const, list: (f: TimelineFilter) => ['timeline', f] as const }

/** The timeline, a page of EVENTS_PAGE at a time (cursor: the last event's id). */
export function useTimeline(f: TimelineFilter) {
  const query = {
    limit: EVENTS_PAGE,
    type: f.groups.length ? f.groups.flatMap((g) => EVENT_GROUPS[g].types).join(',') : undefined,
    tag: f.tag || undefined,
    from: f.from === null ? undefined : new Date(f.from).toISOString(),
  }
  return useInfiniteQuery({
    queryKey: keys.list(f),
    queryFn: ({ pageParam, signal }) => api.get<TimelineEventOut[]>('/events', { ...query, before_id: pageParam ?? undefined }, signal),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => (last.length < EVENTS_PAGE ? null : (last.at(-1)?.id ?? null)),
    refetchInterval: 30_000,
  })
}

export function useRefreshTimeline() {
  const qc = useQueryClient()
  return useCallback(() => void qc.invalidateQueries({ queryKey: keys.all }), [qc])
}
