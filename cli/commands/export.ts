import { createWriteStream, renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Command } from 'commander'
import { streamSamplesCsv } from '../../src/samples/export.js'
import { exportQuery } from '../../src/samples/samples.schema.js'
import { exportRange } from '../../src/samples/samples.service.js'
import { requireTarget } from '../../src/targets/targets.service.js'
import { UsageError } from '../output.js'
import { asUsageError, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'
import { parseTargetId } from './target.js'

// `pingscope export`: the API's CSV export stream (same columns, order and format) to a file or stdout.
// A file is written under a temporary name and renamed when complete, so it is never half an export.

const PROGRESS_AFTER_MS = 1000
const PROGRESS_EVERY_MS = 250

/** Counts rows (line ends) and bytes going through, and draws a progress line on a terminal. */
function counter(showProgress: boolean) {
  const stats = { rows: -1, bytes: 0 } // the header row is not a sample
  const t0 = performance.now()
  let lastDraw = 0
  let drawn = false
  const draw = () => process.stderr.write(`\rexported ${stats.rows.toLocaleString('en-US')} rows (${(stats.bytes / 1e6).toFixed(1)} MB)\x1b[K`)
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      stats.bytes += chunk.length
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) stats.rows++
      const now = performance.now()
      // Only large exports get a progress line: small ones finish before it would appear.
      if (showProgress && now - t0 > PROGRESS_AFTER_MS && now - lastDraw > PROGRESS_EVERY_MS) {
        lastDraw = now
        drawn = true
        draw()
      }
      done(null, chunk)
    },
  })
  const finish = () => {
    if (drawn) process.stderr.write('\r\x1b[K')
  }
  return { stream, stats, finish }
}

export function registerExport(program: Command, deps: CliDeps) {
  program
    .command('export')
    .argument('<id>', 'target id')
    .description("a target's raw samples as CSV (time,target_id,target_ip,latency_ms,hops,packet_loss,site), oldest first, streamed")
    .option('--from <time>', 'first sample time, inclusive, ISO 8601 with a zone (default: the oldest raw sample)')
    .option('--to <time>', 'end, exclusive (default: now)')
    .option('--site <name>', 'only the samples this site measured (default: every site; the site column says which)')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      `
Raw samples are kept RETENTION_RAW_DAYS days (3 by default). With --json (needs -o) a summary
{file, target_id, rows, bytes} is printed instead of progress.

Examples:
  pingscope export 3 > target-3.csv
  pingscope export 3 --from 2025-01-01T00:00:00Z --to 2025-01-02T00:00:00Z -o day.csv
  pingscope export 3 -o all.csv --json`,
    )
    .action(
      action(deps, 'read', async (s, id: string, o: { from?: string; to?: string; site?: string; output?: string }) => {
        const targetId = parseTargetId(id)
        const query = parseWith(exportQuery, { from: o.from, to: o.to, site: o.site }, { site: '--site' })
        if (s.out.json && !o.output) throw new UsageError('--json: needs -o <file> (without it the CSV itself goes to stdout)')
        const target = await requireTarget(s.sql, targetId)
        const count = counter(process.stderr.isTTY === true && !s.out.quiet && !s.out.json)
        const range = await exportRange(s.sql, query).catch((err: unknown) => {
          throw asUsageError(err, { site: o.site }, { site: '--site' })
        })
        const csv = streamSamplesCsv(s.sql, target, range)
        if (!o.output) {
          try {
            await pipeline(csv, count.stream, process.stdout)
          } catch (err) {
            // `pingscope export 3 | head`: the reader left; not an error of ours.
            if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err
          } finally {
            count.finish()
          }
          return
        }
        const file = path.resolve(o.output)
        const tmp = `${file}.${process.pid}.partial`
        try {
          await pipeline(csv, count.stream, createWriteStream(tmp, { flags: 'wx' }))
          renameSync(tmp, file)
        } catch (err) {
          rmSync(tmp, { force: true })
          throw err
        } finally {
          count.finish()
        }
        const doc = { file, target_id: target.id, target_ip: target.address, rows: count.stats.rows, bytes: count.stats.bytes }
        s.out.emit(doc, (d) => `Exported ${d.rows.toLocaleString('en-US')} samples of ${d.target_ip} to ${d.file}`, (d) => d.file)
      }),
    )
}
