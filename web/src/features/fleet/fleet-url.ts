import type { FleetStatus } from '../../components/status-badge'
import type { FleetFilter, Sort, SortKey } from './fleet-model'

// The fleet view's filters and sort in the query string (?q=edge&status=down&tag=core&site=fra&sort=-p95Ms), so
// a reload, Back or a shared link shows the same list. Defaults are left out; unknown values fall back
// to them instead of failing.

export const STATUSES: FleetStatus[] = ['up', 'degraded', 'down', 'paused', 'unknown']
const SORT_KEYS: SortKey[] = ['status', 'name', 'ip', 'lastRttMs', 'lossPercent', 'p95Ms', 'tags', 'sites', 'interval']
export const DEFAULT_SORT: Sort = { key: 'status', dir: 'asc' }

export function filterFromSearch(p: URLSearchParams): FleetFilter {
  const status = p.get('status')
  return {
    q: p.get('q') ?? '',
    status: STATUSES.includes(status as FleetStatus) ? (status as FleetStatus) : 'all',
    tag: p.get('tag') ?? '',
    site: p.get('site') ?? '',
  }
}

export function filterToSearch(f: FleetFilter): Record<string, string | null> {
  return { q: f.q || null, status: f.status === 'all' ? null : f.status, tag: f.tag || null, site: f.site || null }
}

/** `name` ascending, `-name` descending. */
export function sortFromSearch(p: URLSearchParams): Sort {
  const raw = p.get('sort') ?? ''
  const desc = raw.startsWith('-')
  const key = (desc ? raw.slice(1) : raw) as SortKey
  return SORT_KEYS.includes(key) ? { key, dir: desc ? 'desc' : 'asc' } : DEFAULT_SORT
}

export function sortToSearch(s: Sort): string | null {
  if (s.key === DEFAULT_SORT.key && s.dir === DEFAULT_SORT.dir) return null
  return `${s.dir === 'desc' ? '-' : ''}${s.key}`
}
