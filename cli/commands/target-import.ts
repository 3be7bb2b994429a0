import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { AppError } from '../../src/errors.js'
import { targetCreateBody } from '../../src/targets/targets.schema.js'
import { createTarget } from '../../src/targets/targets.service.js'
import { parseCsv } from '../csv.js'
import { CliError, EXIT, UsageError, describeError, formatTable } from '../output.js'
import { issueText, num } from '../parse.js'
import { readStdin } from '../prompt.js'
import { type CliDeps, action } from '../session.js'

// Bulk add from CSV. Each row is validated by the API's schema and added by the same createTarget (one
// transaction with its event), so a row is imported whole or not at all; rejected rows are reported
// with their line and reason and do not stop the others.

export const IMPORT_COLUMNS = ['ip', 'frequency', 'name', 'tags', 'url', 'notes', 'packets', 'timeout_ms', 'sites'] as const
type ImportColumn = (typeof IMPORT_COLUMNS)[number]

export interface ImportReport {
  rows: number
  accepted: { line: number; id: number; ip: string }[]
  rejected: { line: number; ip: string | null; reason: string }[]
}

function readSource(file: string): Promise<string> | string {
  if (file === '-') return readStdin()
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

function rowBody(columns: ImportColumn[], fields: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  columns.forEach((col, i) => {
    const v = (fields[i] ?? '').trim()
    if (v === '') return
    if (col === 'tags' || col === 'sites') body[col] = v.split(';').map((t) => t.trim()).filter(Boolean)
    else if (col === 'frequency' || col === 'packets' || col === 'timeout_ms') body[col] = num(v)
    else body[col] = v
  })
  return body
}

export function registerTargetImport(target: Command, deps: CliDeps) {
  target
    .command('import')
    .argument('<file>', 'CSV file, or - for stdin')
    .description('add many targets from CSV; each row is added whole or rejected with its reason')
    .addHelpText(
      'after',
      `
The first row names the columns, in any order: ${IMPORT_COLUMNS.join(',')} (only ip is required;
tags and sites are separated by ";"; an empty cell takes the default, for sites every site). Exit status 0 when every row was added,
1 when some were rejected (the others are added all the same), 2 when the header is unusable.

Example file:
  ip,frequency,name,tags,url,notes,packets
  192.0.2.10,5,core-router,dc1;core,https://192.0.2.10/,"rack 4, top",3
  2001:db8::1,,edge,,,,

Examples:
  pingscope target import targets.csv
  generate-targets | pingscope target import - --json`,
    )
    .action(
      action(deps, 'admin', async (s, file: string) => {
        const { records, error } = parseCsv(await readSource(file))
        if (file === '-') file = 'stdin'
        const [header, ...rows] = records
        if (!header) throw new UsageError(`${file}: no header row (expected columns ${IMPORT_COLUMNS.join(',')})`)
        const columns = header.fields.map((f) => f.trim().toLowerCase())
        const unknown = columns.find((c) => !(IMPORT_COLUMNS as readonly string[]).includes(c))
        if (unknown !== undefined) throw new UsageError(`${file}: unknown column "${unknown}" in the header (expected ${IMPORT_COLUMNS.join(', ')})`)
        const dup = columns.find((c, i) => columns.indexOf(c) !== i)
        if (dup !== undefined) throw new UsageError(`${file}: column "${dup}" appears twice in the header`)
        if (!columns.includes('ip')) throw new UsageError(`${file}: the header has no ip column`)

        const report: ImportReport = { rows: rows.length + (error ? 1 : 0), accepted: [], rejected: [] }
        const progress = process.stderr.isTTY && !s.out.quiet && rows.length >= 200
        const ipAt = columns.indexOf('ip')
        for (const [n, row] of rows.entries()) {
          const ipCell = row.fields[ipAt]?.trim() || null
          const reject = (reason: string) => report.rejected.push({ line: row.line, ip: ipCell, reason })
          if (row.fields.length > columns.length) {
            reject(`${row.fields.length} fields, but the header has ${columns.length}`)
            continue
          }
          const input = rowBody(columns as ImportColumn[], row.fields)
          const parsed = targetCreateBody.safeParse(input)
          if (!parsed.success) {
            reject(parsed.error.issues.map((i) => issueText(i, input, (f) => f)).join('; '))
            continue
          }
          try {
            const t = await createTarget(s.sql, parsed.data, s.user.username)
            report.accepted.push({ line: row.line, id: t.id, ip: t.address })
          } catch (err) {
            if (!(err instanceof AppError)) {
              throw new CliError(`${(err as Error).message} (stopped at line ${row.line}; ${report.accepted.length} rows were added before)`)
            }
            reject(describeError(err).message)
          }
          if (progress && n % 50 === 0) process.stderr.write(`\r${n + 1}/${rows.length} rows`)
        }
        if (progress) process.stderr.write('\r\x1b[K')
        if (error) report.rejected.push({ line: error.line, ip: null, reason: `${error.message}: this and the following lines were not read` })

        const c = s.out.c
        s.out.emit(
          report,
          (r) =>
            [
              `${r.rejected.length ? c.yellow('Imported') : c.green('Imported')} ${r.accepted.length} of ${r.rows} row${r.rows === 1 ? '' : 's'}` +
                (r.rejected.length ? `; ${r.rejected.length} rejected:` : '.'),
              ...(r.rejected.length
                ? [formatTable(r.rejected, [{ header: 'LINE', value: (x) => x.line, align: 'right' }, { header: 'IP', value: (x) => x.ip }, { header: 'REASON', value: (x) => x.reason }], c)]
                : []),
            ].join('\n'),
          (r) => r.accepted.map((a) => a.id).join('\n'),
        )
        if (report.rejected.length) {
          process.stderr.write(`pingscope: ${report.rejected.length} of ${report.rows} rows rejected\n`)
          process.exitCode = EXIT.operational
        }
      }),
    )
}
