import type { z } from 'zod'
import { AppError } from '../src/errors.js'
import { UsageError } from './output.js'

// Flags are validated by the API's own zod schemas: map the flags to the body or query shape, parse,
// and report the first problem naming the flag (`--frequency: must be <= 3600 (got "99999")`).

/** A numeric-looking flag becomes a number; anything else stays a string for the schema to refuse. */
export function num(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined
  return /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : value
}

/** A zod issue in words (`must be <= 3600`), without the field. */
export function describeIssue(i: z.core.$ZodIssue): string {
  switch (i.code) {
    case 'too_small':
      return i.origin === 'string' ? `must be at least ${String(i.minimum)} characters` : `must be ${i.inclusive ? '>=' : '>'} ${String(i.minimum)}`
    case 'too_big':
      return i.origin === 'string' ? `must be at most ${String(i.maximum)} characters` : `must be ${i.inclusive ? '<=' : '<'} ${String(i.maximum)}`
    case 'invalid_type':
      return i.expected === 'int' ? 'must be a whole number' : i.expected === 'number' ? 'must be a number' : `must be a ${i.expected}`
    case 'invalid_value':
      return `must be one of ${i.values.map((v) => String(v)).join(', ')}`
    case 'invalid_format':
      return i.format === 'datetime' ? 'must be an ISO 8601 time with a zone, e.g. 2025-01-31T12:00:00Z' : i.message
    default:
      return i.message.replace(/^Invalid input: /, '')
  }
}

const at = (obj: unknown, pathParts: PropertyKey[]): unknown =>
  pathParts.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), obj)

/** One issue as `name: problem (got "value")`; `name(field)` says what the user calls the field. */
export function issueText(issue: z.core.$ZodIssue, input: unknown, name: (field: string) => string): string {
  const got = at(input, issue.path)
  const shown = got === undefined || typeof got === 'object' ? '' : ` (got "${String(got)}")`
  return `${name(String(issue.path[0] ?? ''))}: ${describeIssue(issue)}${shown}`
}

/**
 * Parses `input` with `schema`; on failure throws a UsageError for the first issue, naming the flag
 * (`flags[field]`, else `--field`) and the value given.
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, flags: Record<string, string>): z.output<S> {
  const r = schema.safeParse(input)
  if (r.success) return r.data
  throw new UsageError(issueText(r.error.issues[0]!, input, (f) => flags[f] ?? `--${f.replace(/_/g, '-')}`))
}

/**
 * A service's field error (`AppError(422, [{loc: ['body', 'ip'], …}])`, e.g. an address that does not
 * parse) as a UsageError naming the flag and the value given; other errors pass through.
 */
export function asUsageError(err: unknown, input: Record<string, unknown>, flags: Record<string, string>): unknown {
  if (!(err instanceof AppError) || err.status !== 422 || !Array.isArray(err.detail) || !err.detail[0]) return err
  const field = String(err.detail[0].loc.at(-1))
  const got = input[field]
  return new UsageError(`${flags[field] ?? `--${field}`}: ${err.detail[0].msg}${typeof got === 'string' || typeof got === 'number' ? ` (got "${got}")` : ''}`)
}

/** Commander collector for repeatable flags (`--tag a --tag b`). */
export const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

/** `15m`, `1h`, `24h`, `7d`, `2w`, `1y` → minutes. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+)\s*(m|min|h|d|w|y)$/i.exec(value.trim())
  if (!m) throw new UsageError(`${flag}: must be a duration such as 15m, 1h, 24h, 30d or 1y (got "${value}")`)
  const unit = { m: 1, min: 1, h: 60, d: 1440, w: 10_080, y: 525_600 }[m[2]!.toLowerCase() as 'm']
  return Number(m[1]) * unit
}

/** `30s`, `5m`, `2h`, `1d` (or a bare number of seconds) → seconds; the schema checks the range. */
export function parseSeconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const m = /^(\d+)\s*(s|sec|m|min|h|d)?$/i.exec(value.trim())
  if (!m) throw new UsageError(`${flag}: must be a duration such as 30s, 5m, 2h or 1d (got "${value}")`)
  const unit = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86_400 }[(m[2] ?? 's').toLowerCase() as 's']
  return Number(m[1]) * unit
}
