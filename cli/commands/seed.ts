import { Command, CommanderError } from 'commander'
import { z } from 'zod'
import { migrate } from '../../src/db/migrate.js'
import { reconcilePolicies } from '../../src/db/maintenance/policies.js'
import { SEED_NETWORKS, SEED_TAG } from '../../src/seed/generator.js'
import { type SeedOptions, type SeedProgress, type SeedReport, seedHistory } from '../../src/seed/seed.service.js'
import { describeIssue } from '../parse.js'
import { UsageError, formatFields } from '../output.js'
import { type CliDeps, action } from '../session.js'

// `pingscope seed` and the standalone scripts/seed-history.ts: their flags, limits and printing over
// src/seed. Seeded targets use documentation addresses and are created paused: nothing is ever probed.

const flagsSchema = z.object({
  targets: z.coerce.number().int().min(1).max(5000),
  days: z.coerce.number().positive().max(36_500),
  intervalS: z.coerce.number().int().min(1).max(3600),
  packets: z.coerce.number().int().min(1).max(20),
  loss: z.coerce.number().min(0).max(0.5),
  seed: z.coerce.number().int().min(0).max(0xffffffff),
  resetSeeded: z.boolean().default(false),
  quiet: z.boolean().default(false),
})

export type SeedFlags = z.infer<typeof flagsSchema>

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Parses seed-history's argv into options; throws a one-line UsageError on anything invalid. */
export function parseSeedFlags(argv: string[]): SeedFlags {
  const program = new Command()
    .name('seed-history')
    .description('write synthetic ping history for disabled documentation-address targets (never probed)')
    .option('--targets <n>', 'number of targets', '10')
    .option('--days <n>', 'days of history, ending now', '90')
    .option('--interval-s <n>', 'seconds between rounds', '60')
    .option('--packets <n>', 'echoes per round', '5')
    .option('--loss <p>', 'background loss probability per echo', '0.01')
    .option('--seed <n>', 'PRNG seed: the same seed gives the same history', '42')
    .option('--reset-seeded', 'delete previously seeded targets and their history first')
    .option('--quiet', 'no progress, only the summary')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
  try {
    program.parse(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) throw err
    throw new UsageError(err instanceof Error ? err.message.replace(/^error: /, '') : String(err))
  }
  const raw = program.opts<Record<string, string | boolean>>()
  const parsed = flagsSchema.safeParse(raw)
  if (!parsed.success) {
    throw new UsageError(
      parsed.error.issues
        .map((i) => `--${kebab(String(i.path[0]))} ${describeIssue(i)} (got "${raw[String(i.path[0])]}")`)
        .join('; '),
    )
  }
  return parsed.data
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** The script's progress on stderr: a bar on a terminal, else a line per tenth of the range. */
export function createSeedProgressBar(quiet: boolean) {
  const tty = process.stderr.isTTY === true
  let nextTenth = 1
  let lastDraw = 0
  return (p: SeedProgress) => {
    if (quiet) return
    const pct = Math.floor(p.fraction * 100)
    const rate = p.elapsedMs > 0 ? (p.rows / p.elapsedMs) * 1000 : 0
    const line = `${String(pct).padStart(3)}% window ${p.window}/${p.windows} · ${fmt(p.rows)} rows · ${fmt(rate)} rows/s${p.phase === 'jobs' ? ' · running policy jobs' : ''}`
    if (tty) {
      const now = performance.now()
      if (p.phase === 'history' && now - lastDraw < 100 && p.window < p.windows) return
      lastDraw = now
      const width = 30
      const filled = Math.round(p.fraction * width)
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}\x1b[K${p.phase === 'done' ? '\n' : ''}`)
    } else if (p.phase === 'history' && p.fraction * 10 >= nextTenth) {
      nextTenth = Math.floor(p.fraction * 10) + 1
      process.stderr.write(`seed: ${line}\n`)
    } else if (p.phase === 'jobs') process.stderr.write(`seed: running policy jobs\n`)
  }
}

/** The script's summary, with the time of each phase. */
export function formatSeedSummary(r: SeedReport, o: SeedOptions, openMs: number): string {
  const lost = r.targets.reduce((a, t) => a + t.lost, 0)
  const sum = (k: 'outages' | 'congestion' | 'routeChanges') => r.targets.reduce((a, t) => a + t[k], 0)
  const failed = r.jobs.filter((j) => !j.ok)
  return [
    `targets  ${r.targets.length} (${r.targets[0]?.address} … ${r.targets.at(-1)?.address}), disabled, tagged "${SEED_TAG}"` +
      `${r.removedTargets ? `; ${r.removedTargets} previously seeded removed` : ''}`,
    `range    ${r.from.toISOString()} → ${r.to.toISOString()} (${o.days} days, a round every ${o.intervalS} s of ${o.packets} echoes)`,
    `rows     ${fmt(r.rows)} generated, ${fmt(r.inserted)} inserted; loss ${((lost / Math.max(1, r.rows)) * 100).toFixed(2)} %, ` +
      `${sum('outages')} outages, ${sum('congestion')} congestion episodes, ${sum('routeChanges')} route changes`,
    `speed    ${fmt(r.rowsPerS)} rows/s ingest, ${fmt((r.rows / Math.max(1, r.ms.total)) * 1000)} rows/s overall`,
    `phases   open + migrate ${secs(openMs)} · setup ${secs(r.ms.setup)} · generate ${secs(r.ms.generate)} · insert ${secs(r.ms.insert)} · ` +
      `refresh 1m ${secs(r.ms.refresh1m)} · refresh 1h ${secs(r.ms.refresh1h)} (${r.windows} windows of ${r.windowHours} h) · ` +
      `jobs ${secs(r.ms.jobs)} · total ${secs(r.ms.total)}`,
    ...failed.map((j) => `warning  policy job ${j.jobName} failed: ${j.error}`),
  ].join('\n')
}

const FLAGS = ['targets', 'days', 'intervalS', 'packets', 'loss', 'seed'] as const

function progressPrinter(enabled: boolean) {
  let last = 0
  return (p: SeedProgress) => {
    if (!enabled) return
    const now = performance.now()
    if (p.phase === 'history' && now - last < 200) return
    last = now
    const line = `${String(Math.floor(p.fraction * 100)).padStart(3)}% window ${p.window}/${p.windows} · ${p.rows.toLocaleString('en-US')} rows${p.phase === 'jobs' ? ' · running policy jobs' : ''}`
    process.stderr.write(p.phase === 'done' ? '\r\x1b[K' : `\r${line}\x1b[K`)
  }
}

export function registerSeed(program: Command, deps: CliDeps) {
  program
    .command('seed')
    .description('write synthetic history for paused documentation-address targets (charts and insights to look at)')
    .option('--targets <n>', 'number of targets (default 10)')
    .option('--days <n>', 'days of history ending now (default 90)')
    .option('--interval-s <n>', 'seconds between rounds (default 60)')
    .option('--packets <n>', 'echoes per round (default 5)')
    .option('--loss <p>', 'background loss probability per echo (default 0.01)')
    .option('--seed <n>', 'PRNG seed: the same seed gives the same history (default 42)')
    .option('--reset-seeded', 'delete previously seeded targets and their history first')
    .addHelpText(
      'after',
      `\nSeeded targets are tagged "${SEED_TAG}", paused, and use documentation addresses (${SEED_NETWORKS.join(', ')}): they are never probed.\n\nExamples:\n  pingscope seed --targets 5 --days 30\n  pingscope seed --reset-seeded --days 365 --interval-s 300 --json`,
    )
    .action(
      action(deps, 'admin', async (s, o: Partial<Record<(typeof FLAGS)[number], string>> & { resetSeeded?: boolean }) => {
        // The script's parser and limits: pass the given flags through to it.
        const argv = FLAGS.flatMap((k) => (o[k] === undefined ? [] : [`--${kebab(k)}`, o[k]!]))
        if (o.resetSeeded) argv.push('--reset-seeded')
        const flags = parseSeedFlags(argv)
        if (flags.days > s.config.retention.hourDays) throw new UsageError(`--days: must be at most the 1-hour retention (${s.config.retention.hourDays} days)`)
        await migrate(s.sql)
        await reconcilePolicies(s.sql, s.config.retention)
        const abort = new AbortController()
        const stop = () => abort.abort()
        process.once('SIGINT', stop)
        try {
          // An engine this process started dies with it on Ctrl-C, and nobody else runs jobs on it meanwhile.
          const report = await seedHistory(
            s.sql,
            { ...flags, pauseRetention: !s.db.engine?.owned, signal: abort.signal },
            progressPrinter(process.stderr.isTTY === true && !s.out.quiet && !s.out.json),
          )
          s.out.emit(
            report,
            (r) =>
              formatFields(
                [
                  ['targets', `${r.targets.length} (${r.targets[0]?.address} … ${r.targets.at(-1)?.address}), paused, tagged "${SEED_TAG}"`],
                  ['removed', r.removedTargets || null],
                  ['range', `${r.from.toISOString()} → ${r.to.toISOString()}`],
                  ['rows', `${r.rows.toLocaleString('en-US')} generated, ${r.inserted.toLocaleString('en-US')} inserted`],
                  ['time', `${(r.ms.total / 1000).toFixed(1)} s`],
                  ...r.jobs.filter((j) => !j.ok).map((j): [string, string] => ['warning', `policy job ${j.jobName} failed: ${j.error}`]),
                ],
                s.out.c,
              ),
            (r) => r.targets.map((t) => t.id).join('\n'),
          )
        } finally {
          process.removeListener('SIGINT', stop)
        }
      }),
    )
}
