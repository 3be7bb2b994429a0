import type { FleetStatus } from '../../components/status-badge'
import type { LiveFigures } from '../../lib/status'
import type { FleetSummaryOut, TargetOut } from './api/fleet'

// The fleet table's rows: the target list, the last-hour summary and the live stream merged, then
// filtered and sorted. Pure functions, so 1,000 rows cost a few milliseconds a second. The status is
// the API's state (re-read when a `targets` event says it changed); live rounds refresh the figures only.

export interface FleetRow {
  id: number
  name: string
  ip: string
  tags: string[]
  /** The sites that probe it; null: every site. */
  sites: string[] | null
  status: FleetStatus
  /** When the state began (the API's `state_since`). */
  since: string
  lastRttMs: number | null
  lastTime: string | null
  lossPercent: number | null
  p95Ms: number | null
  spark: (number | null)[]
  sparkLoss: (number | null)[]
  interval: number
  /** Lower-cased text searched by the filter box. */
  haystack: string
}

export function buildRows(targets: TargetOut[], summary: FleetSummaryOut | undefined, live: ReadonlyMap<number, LiveFigures>): FleetRow[] {
  const stats = new Map(summary?.targets.map((s) => [s.target_id, s]))
  return targets.map((t) => {
    const s = stats.get(t.id)
    const l = live.get(t.id)
    const lossPercent = s?.loss_percent ?? null
    return {
      id: t.id,
      name: t.name ?? t.ip,
      ip: t.ip,
      tags: t.tags,
      sites: t.sites,
      status: t.state,
      since: t.state_since,
      lastRttMs: l ? l.rttMs : (t.last_sample?.latency_ms ?? null),
      lastTime: l?.time ?? t.last_sample?.time ?? null,
      lossPercent,
      p95Ms: s?.p95_latency_ms ?? null,
      spark: s?.spark_latency_ms ?? [],
      sparkLoss: s?.spark_loss ?? [],
      interval: t.frequency,
      haystack: `${t.name ?? ''} ${t.ip} ${t.tags.join(' ')} ${t.sites?.join(' ') ?? ''} ${t.notes ?? ''}`.toLowerCase(),
    }
  })
}

export interface FleetFilter {
  q: string
  status: FleetStatus | 'all'
  tag: string
  /** Only the targets this site probes (those listing it, and those probed from every site); '' for any. */
  site: string
}

export function filterRows(rows: FleetRow[], f: FleetFilter): FleetRow[] {
  const words = f.q.toLowerCase().split(/\s+/).filter(Boolean)
  if (!words.length && f.status === 'all' && !f.tag && !f.site) return rows
  return rows.filter(
    (r) =>
      (f.status === 'all' || r.status === f.status) &&
      (!f.tag || r.tags.includes(f.tag)) &&
      (!f.site || r.sites === null || r.sites.includes(f.site)) &&
      words.every((w) => r.haystack.includes(w)),
  )
}

export type SortKey = 'status' | 'name' | 'ip' | 'lastRttMs' | 'lossPercent' | 'p95Ms' | 'tags' | 'sites' | 'interval'
export interface Sort {
  key: SortKey
  dir: 'asc' | 'desc'
}

const STATUS_ORDER: Record<FleetStatus, number> = { down: 0, degraded: 1, unknown: 2, up: 3, paused: 4 }
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

function value(r: FleetRow, key: SortKey): string | number | null {
  switch (key) {
    case 'status':
      return STATUS_ORDER[r.status]
    case 'tags':
      return r.tags.length ? r.tags.join(',') : null
    case 'sites':
      return r.sites === null ? null : r.sites.join(',')
    default:
      return r[key]
  }
}

/** Sorted copy; empty values last in either direction, ties by name. */
export function sortRows(rows: FleetRow[], s: Sort): FleetRow[] {
  const sign = s.dir === 'asc' ? 1 : -1
  return [...rows].sort((a, b) => {
    const va = value(a, s.key)
    const vb = value(b, s.key)
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1
    } else if (va !== vb) {
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb))
      if (c !== 0) return c * sign
    }
    return collator.compare(a.name, b.name) || a.id - b.id
  })
}

export function countByStatus(rows: FleetRow[]): Record<FleetStatus, number> {
  const c: Record<FleetStatus, number> = { up: 0, degraded: 0, down: 0, paused: 0, unknown: 0 }
  for (const r of rows) c[r.status]++
  return c
}
