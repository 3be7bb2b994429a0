import { ApiError, type FieldProblem } from '../../lib/api-client'
import { formErrors } from '../../lib/form-errors'
import { getTimeZone } from '../../lib/time-zone'

// Helpers of the alerting forms: the API's 422 problems by field, nested ones as `config.url`; the
// problems no field of the form shows; durations typed as 30s, 5m, 2h, 1d.

export function fieldErrors(err: unknown, conflictField?: string): { fields: Record<string, string>; rest: unknown } {
  if (!(err instanceof ApiError && err.status === 422 && Array.isArray(err.detail))) return formErrors(err, conflictField)
  const fields: Record<string, string> = {}
  for (const p of err.detail as FieldProblem[]) {
    const path = (p.loc ?? []).filter((x, i) => !(i === 0 && x === 'body'))
    const key = path[0] === 'config' && path.length > 1 ? `config.${String(path[1])}` : String(path[0] ?? '')
    fields[key] ??= p.msg
  }
  return { fields, rest: null }
}

/** "field: message" for the problems the form has no field for (shown with the form). */
export function unshown(fields: Record<string, string>, shown: string[]): string | null {
  const rest = Object.entries(fields).filter(([k]) => !shown.includes(k))
  return rest.length ? rest.map(([k, m]) => `${k || 'request'}: ${m}`).join('; ') : null
}

/** Numbers stay as typed when they are not numbers: the API then names the field. */
export const num = (s: string): number => (s.trim() === '' ? NaN : Number(s))

const UNIT_S: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86_400 }

/** Seconds of "90s", "5m", "2h", "1d" (a bare number is seconds); null when it is none of these. */
export function parseDuration(s: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$/.exec(s)
  return m ? Math.round(Number(m[1]) * UNIT_S[m[2] ?? 's']!) : null
}

/** A <input type="datetime-local"> value as an ISO time, in the zone the dashboard shows times in. */
export function fromLocalInput(v: string): string | undefined {
  if (!v) return undefined
  const d = new Date(getTimeZone() === 'utc' ? `${v}Z` : v)
  return Number.isNaN(d.getTime()) ? v : d.toISOString()
}
