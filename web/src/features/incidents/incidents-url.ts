import type { IncidentFilter, Severity } from './api/incidents'
import { SEVERITY_OPTIONS } from './incident-format'

// The incidents view in the query string (?state=all&severity=critical&unack=1&page=2), so a reload,
// Back or a shared link shows the same list. Defaults are left out; unknown values fall back to them.

export function filterFromSearch(p: URLSearchParams): IncidentFilter {
  const severity = p.get('severity') as Severity | null
  return {
    state: p.get('state') === 'all' ? 'all' : 'open',
    severity: severity && SEVERITY_OPTIONS.includes(severity) ? severity : '',
    unacknowledged: p.get('unack') === '1',
  }
}

export function filterToSearch(f: Partial<IncidentFilter>): Record<string, string | null | undefined> {
  const out: Record<string, string | null | undefined> = { page: null }
  if (f.state !== undefined) out.state = f.state === 'all' ? 'all' : null
  if (f.severity !== undefined) out.severity = f.severity || null
  if (f.unacknowledged !== undefined) out.unack = f.unacknowledged ? '1' : null
  return out
}

/** History page, 0-based (the URL says 1-based `page`). */
export function pageFromSearch(p: URLSearchParams): number {
  const n = Number(p.get('page'))
  return Number.isInteger(n) && n > 1 ? n - 1 : 0
}
