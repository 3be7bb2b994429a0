import { EVENT_GROUPS, type EventGroup, type EventRange, RANGES } from './api/events'

// The timeline's view in the query string: ?range=24h&types=outages,alerts&tag=core

export interface TimelineView {
  range: EventRange
  groups: EventGroup[]
  tag: string
}

export function viewFromSearch(p: URLSearchParams): TimelineView {
  const range = p.get('range') ?? ''
  const groups = (p.get('types') ?? '').split(',').filter((g): g is EventGroup => g in EVENT_GROUPS)
  return { range: range in RANGES ? (range as EventRange) : '7d', groups: [...new Set(groups)], tag: p.get('tag') ?? '' }
}

export function viewToSearch(v: Partial<TimelineView>): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  if (v.range !== undefined) out.range = v.range === '7d' ? null : v.range
  if (v.groups !== undefined) out.types = v.groups.length ? v.groups.join(',') : null
  if (v.tag !== undefined) out.tag = v.tag || null
  return out
}
