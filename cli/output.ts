import { CommanderError } from 'commander'
import { AppError } from '../src/errors.js'

// How the CLI speaks: one JSON document (--json), bare identifiers (--quiet) or aligned tables, and
// errors as one line on stderr with an exit code: 0 success, 1 operational error, 2 usage error.

export const EXIT = { ok: 0, operational: 1, usage: 2 } as const

/** The user's mistake (bad flag or value): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Something went wrong that is not the command line's fault (not logged in, refused, not found): exit 1. */
export class CliError extends Error {
  override name = 'CliError'
}

const PG_MISSING_SCHEMA = new Set(['42P01', '3F000']) // undefined_table, invalid_schema_name
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOENT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '28P01', '28000', '3D000'])

/** Maps any error to its one-line message and exit code. `flags` names the flag behind a body field. */
export function describeError(err: unknown, flags: Record<string, string> = {}): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: EXIT.usage }
  if (err instanceof CommanderError) return { message: err.message.replace(/^error: /, ''), code: EXIT.usage }
  if (err instanceof AppError) {
    // 422 is a bad value; other refusals (400 "you cannot demote yourself", 403, 404, 409) are operational.
    const usage = err.status === 422
    if (Array.isArray(err.detail)) {
      const message = err.detail
        .map((d) => {
          const field = String(d.loc.filter((l) => l !== 'body' && l !== 'querystring' && l !== 'params')[0] ?? '')
          return `${flags[field] ?? field}: ${d.msg}`
        })
        .join('; ')
      return { message, code: usage ? EXIT.usage : EXIT.operational }
    }
    return { message: err.message, code: usage ? EXIT.usage : EXIT.operational }
  }
  const code = (err as { code?: unknown } | null)?.code
  const msg = err instanceof Error ? err.message : String(err)
  if (typeof code === 'string' && PG_MISSING_SCHEMA.has(code)) {
    return { message: `the database has no pingscope schema (${msg}): run \`pingscope migrate\``, code: EXIT.operational }
  }
  if (typeof code === 'string' && UNREACHABLE.has(code)) return { message: `database unreachable: ${msg}`, code: EXIT.operational }
  return { message: msg, code: EXIT.operational }
}

/** Prints one line naming the problem and exits: 2 for the user's mistakes, 1 for operational errors. */
export function fail(err: unknown, flags: Record<string, string> = {}): never {
  const { message, code } = describeError(err, flags)
  process.stderr.write(`pingscope: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`)
  process.exit(code)
}

// ---------------------------------------------------------------------------------------------------
// Human output

export interface Colours {
  bold(s: string): string
  dim(s: string): string
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
  cyan(s: string): string
}

const ansi = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`

export function colours(enabled: boolean): Colours {
  if (!enabled) {
    const id = (s: string) => s
    return { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id }
  }
  return { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39), cyan: ansi(36, 39) }
}

// eslint-disable-next-line no-control-regex
const visibleLength = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length

export interface Column<T> {
  header: string
  value: (row: T) => string | number | null | undefined
  align?: 'right'
  /** Decorates the padded cell (colour); the width is measured before. */
  style?: (text: string, row: T) => string
}

/** Aligned columns separated by two spaces, a bold header, no trailing spaces. */
export function formatTable<T>(rows: T[], columns: Column<T>[], c: Colours): string {
  const cells = rows.map((r) => columns.map((col) => String(col.value(r) ?? '-')))
  const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((row) => visibleLength(row[i]!))))
  const pad = (text: string, i: number) => {
    const gap = ' '.repeat(widths[i]! - visibleLength(text))
    return columns[i]!.align === 'right' ? gap + text : text + gap
  }
  const header = columns.map((col, i) => c.bold(pad(col.header, i))).join('  ')
  const lines = cells.map((row, r) => row.map((text, i) => (columns[i]!.style ? columns[i]!.style!(pad(text, i), rows[r]!) : pad(text, i))).join('  '))
  return [header, ...lines].map((l) => l.trimEnd()).join('\n')
}

/** `key  value` lines with the keys aligned. */
export function formatFields(fields: [string, string | number | boolean | null | undefined][], c: Colours): string {
  const width = Math.max(...fields.map(([k]) => k.length))
  return fields.map(([k, v]) => `${c.bold(k.padEnd(width))}  ${v === null || v === undefined || v === '' ? c.dim('-') : String(v)}`).join('\n')
}

/** ISO time without milliseconds, for tables. */
export const shortTime = (iso: string | null | undefined) => (iso ? iso.replace(/\.\d{3}Z$/, 'Z') : null)

export const ms = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? null : `${Number(v.toFixed(digits))} ms`)

export interface OutputOptions {
  json: boolean
  quiet: boolean
  color: boolean
}

export interface Output {
  readonly json: boolean
  readonly quiet: boolean
  readonly c: Colours
  /**
   * Prints a result: the document as JSON with --json; `quiet(doc)` lines (ids, a token) with --quiet;
   * otherwise `human(doc)`. Every command prints through here exactly once.
   */
  emit<T>(doc: T, human: (doc: T) => string | null, quiet?: (doc: T) => string | null): void
}

export function createOutput(opts: OutputOptions): Output {
  const c = colours(opts.color)
  const write = (text: string | null) => {
    if (text !== null && text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }
  return {
    json: opts.json,
    quiet: opts.quiet && !opts.json,
    c,
    emit(doc, human, quiet) {
      if (opts.json) write(JSON.stringify(doc, null, 2))
      else if (opts.quiet) write(quiet ? quiet(doc) : null)
      else write(human(doc))
    },
  }
}
