import { RANGES, type Range, type RangeKey } from '../api/targets'

// The target view's chart state in the query string: ?range=7d, or a zoom ?from=…&to=… (ISO times),
// and &scale=log. The default (the last hour, linear) is left out; values that do not parse fall back
// to it, so an edited or truncated link still opens the page.

export const DEFAULT_RANGE: Range = { key: '1h' }

export function rangeFromSearch(p: URLSearchParams): Range {
  const from = Date.parse(p.get('from') ?? '')
  const to = Date.parse(p.get('to') ?? '')
  if (Number.isFinite(from) && Number.isFinite(to) && from < to) return { from, to }
  const key = p.get('range')
  return RANGES.some((r) => r.key === key) ? { key: key as RangeKey } : DEFAULT_RANGE
}

export function rangeToSearch(r: Range): Record<string, string | null> {
  if ('key' in r) return { range: r.key === '1h' ? null : r.key, from: null, to: null }
  return { range: null, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }
}

export const logFromSearch = (p: URLSearchParams): boolean => p.get('scale') === 'log'
export const logToSearch = (log: boolean) => ({ scale: log ? 'log' : null })

/** ?site=name: the charts and figures of what that site measured; absent: all sites combined. */
export const siteFromSearch = (p: URLSearchParams): string | null => p.get('site') || null
export const siteToSearch = (site: string | null) => ({ site })
