import type { Command } from 'commander'
import { migrate } from '../../src/db/migrate.js'
import { reconcilePolicies } from '../../src/db/policies.js'
import { SEED_NETWORKS, SEED_TAG, type SeedProgress, parseFlags, seedHistory } from '../../scripts/seed-history.js'
import { UsageError, formatFields } from '../output.js'
import { type CliDeps, action } from '../session.js'

// `pingscope seed`: the seed script (scripts/seed-history.ts) as a command, with its flags and checks.
// Seeded targets use documentation addresses and are created paused: nothing is ever probed.

const FLAGS = ['targets', 'days', 'intervalS', 'packets', 'loss', 'seed'] as const
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

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
        // The script's own parser and limits: pass the given flags through to it.
        const argv = FLAGS.flatMap((k) => (o[k] === undefined ? [] : [`--${kebab(k)}`, o[k]!]))
        if (o.resetSeeded) argv.push('--reset-seeded')
        const flags = parseFlags(argv)
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
