// Benchmark: /targets/{id}/insights over long histories. Seeds N days of synthetic history (the seed
// script's own generator and ingest path, 1-minute and 1-hour tiers materialised) into a fresh embedded
// data directory, then:
//  1. accuracy: while every raw row is still there (the seed runs with retention widened), the
//     percentiles the service returns for windows of every tier and source, against exact
//     percentile_cont over the raw rows of the range each response says it counted;
//  2. timing: after the policy jobs ran with the configured retention (raw rows older than 3 days and
//     1-minute rows older than 30 days gone, as in production), the insights service for windows from
//     15 minutes to 90 days: every query it makes plus the JSON encoding, as the route runs it.
//
//   node --import tsx scripts/bench/insights.ts [--targets 3] [--days 90] [--interval-s 60] [--packets 5] [--runs 20] [--keep]
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { getInsights } from '../../src/insights/insights.service.js'
import { loadConfig } from '../../src/config.js'
import { runAllJobs } from '../../src/db/maintenance/job-runs.js'
import { migrate } from '../../src/db/migrate.js'
import { openDatabase } from '../../src/db/open.js'
import { reconcilePolicies } from '../../src/db/maintenance/policies.js'
import { createLogger } from '../../src/log.js'
import { seedHistory } from '../../src/seed/seed.service.js'

const opts = new Command()
  .option('--targets <n>', 'seeded targets', '3')
  .option('--days <n>', 'days of history', '90')
  .option('--interval-s <n>', 'seconds between rounds', '60')
  .option('--packets <n>', 'echoes per round', '5')
  .option('--runs <n>', 'timed runs per window (after 2 warm-up runs)', '20')
  .option('--keep', 'keep the data directory')
  .parse()
  .opts<{ targets: string; days: string; intervalS: string; packets: string; runs: string; keep?: boolean }>()

const WINDOWS: [string, number][] = [
  ['15 min', 15],
  ['1 h', 60],
  ['24 h', 1440],
  ['7 d', 7 * 1440],
  ['30 d', 30 * 1440],
  ['90 d', 90 * 1440],
]
const LIMIT_90D_MS = 100

// Accuracy windows: a length and the ages of their ends, chosen so that each source answers some:
// raw (exact) while raw rows cover the window, 1m (refined) within the 1-minute retention, 1h beyond.
const DAY_MS = 86_400_000
const ACCURACY_WINDOWS: [string, number, number[]][] = [
  ['7 h', 7 / 24, [0, 1, 2, 4, 10, 20, 40, 60]],
  ['24 h', 1, [0, 1, 5, 15, 45]],
  ['7 d', 7, [0, 10, 20, 40, 80]],
  ['30 d', 30, [0, 30, 59]],
  ['90 d', 89.5, [0]],
]

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

const dir = mkdtempSync(path.join(os.tmpdir(), 'pingscope-bench-insights-'))
const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' })
const log = createLogger('silent', 'bench')
const db = await openDatabase(config, { log })
let failed = false
try {
  await migrate(db.sql)
  const days = Number(opts.days)
  // Keep every raw and 1-minute row until the accuracy phase is done.
  await reconcilePolicies(db.sql, { rawDays: days + 2, minuteDays: days + 3, hourDays: Math.max(config.retention.hourDays, days + 4) })
  if (days > 90) console.warn('note: the 90-day window then covers only part of the history')
  process.stderr.write(`seeding ${opts.targets} targets × ${days} days (a round of ${opts.packets} echoes every ${opts.intervalS} s)…\n`)
  const seed = await seedHistory(db.sql, {
    targets: Number(opts.targets),
    days,
    intervalS: Number(opts.intervalS),
    packets: Number(opts.packets),
    loss: 0.01,
    seed: 42,
    pauseRetention: false, // this process owns the engine: nothing else runs jobs meanwhile
  })
  const ids = seed.targets.map((t) => t.id)

  process.stderr.write('accuracy: every window against percentile_cont on its raw rows…\n')
  const accuracy = new Map<string, { n: number; worst: number[] }>()
  const now = new Date()
  for (const [label, lengthDays, ages] of ACCURACY_WINDOWS) {
    for (const age of ages) {
      for (const id of ids) {
        // Off the bucket grid, so that the partial buckets at both ends are exercised too.
        const to = new Date(Math.min(seed.to.getTime(), now.getTime() - age * DAY_MS) - 43_000)
        const from = new Date(to.getTime() - lengthDays * DAY_MS)
        const r = await getInsights(db.sql, id, { from, to, histogram: false }, { retention: config.retention, now })
        const [exact] = await db.sql<{ cont: number[] | null }[]>`
          select percentile_cont(array[0.5, 0.95, 0.99]) within group (order by rtt_us) as cont
          from samples where target_id = ${id} and time >= ${new Date(r.window_start)} and time < ${new Date(r.window_end)}`
        if (!exact?.cont || exact.cont[0] === null) continue
        const key = `| ${label} | ${r.tier} | ${r.percentile_source} |`
        const a = accuracy.get(key) ?? { n: 0, worst: [0, 0, 0] }
        accuracy.set(key, a)
        a.n++
        ;[r.latency_p50_ms, r.latency_p95_ms, r.latency_p99_ms].forEach((v, i) => {
          const x = exact.cont![i]! / 1000
          a.worst[i] = Math.max(a.worst[i]!, Math.abs(v! - x) / x)
        })
      }
    }
  }

  // Now as in production: the configured retention, the policy jobs run once.
  await reconcilePolicies(db.sql, config.retention)
  await runAllJobs(db.sql)
  const [counts] = await db.sql<{ raw: number; m1: number; h1: number }[]>`
    select (select count(*) from samples)::int as raw, (select count(*) from samples_1m)::int as m1, (select count(*) from samples_1h)::int as h1`

  const runs = Number(opts.runs)
  const rows: string[] = []
  for (const [label, minutes] of WINDOWS) {
    const times: number[] = []
    const tiers = new Set<string>()
    const sources = new Set<string>()
    let buckets = 0
    let samples = 0
    for (let i = 0; i < runs + 2; i++) {
      const id = ids[i % ids.length]!
      const t0 = performance.now()
      const r = await getInsights(db.sql, id, { window_minutes: minutes, histogram: false }, { retention: config.retention })
      JSON.stringify(r)
      const ms = performance.now() - t0
      if (i < 2) continue // warm-up
      times.push(ms)
      tiers.add(r.tier)
      sources.add(r.percentile_source)
      buckets = r.timeline.length
      samples = r.sample_count
    }
    times.sort((a, b) => a - b)
    const p50 = quantile(times, 0.5)
    const p95 = quantile(times, 0.95)
    rows.push(`| ${label} | ${[...tiers].join(', ')} | ${[...sources].join(', ')} | ${buckets} | ${samples.toLocaleString('en-US')} | ${p50.toFixed(1)} | ${p95.toFixed(1)} |`)
    if (minutes === 90 * 1440 && (p95 >= LIMIT_90D_MS || !tiers.has('1h') || tiers.size !== 1)) failed = true
  }

  console.log(`\ninsights benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, embedded engine`)
  console.log(
    `history: ${ids.length} targets × ${days} days, ${seed.rows.toLocaleString('en-US')} echoes seeded in ${(seed.ms.total / 1000).toFixed(0)} s; ` +
      `kept after the policy jobs: ${counts!.raw.toLocaleString('en-US')} raw rows, ${counts!.m1.toLocaleString('en-US')} 1m rows, ${counts!.h1.toLocaleString('en-US')} 1h rows`,
  )
  console.log(`load average before timing: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  console.log(`${runs} runs per window, round-robin over the targets, after 2 warm-up runs; default bucket size\n`)
  console.log('| window | tier | percentiles | buckets | echoes in window (one target) | p50 ms | p95 ms |')
  console.log('|---|---|---|---|---|---|---|')
  for (const r of rows) console.log(r)
  console.log('\npercentile accuracy: worst relative error against percentile_cont on the raw rows of each window')
  console.log(`(windows ending ${ACCURACY_WINDOWS.map(([l, , ages]) => `${l}: ${ages.join(', ')}`).join('; ')} days ago; each target)\n`)
  console.log('| window | tier | percentiles | windows | p50 | p95 | p99 |')
  console.log('|---|---|---|---|---|---|---|')
  for (const [key, a] of accuracy) console.log(`${key} ${a.n} | ${a.worst.map((e) => `${(e * 100).toFixed(2)} %`).join(' | ')} |`)
  console.log(`\n90-day window from the 1h tier with p95 < ${LIMIT_90D_MS} ms: ${failed ? 'NO' : 'yes'}`)
} finally {
  await db.close()
  if (!opts.keep) rmSync(dir, { recursive: true, force: true })
  else console.log(`data directory kept: ${dir}`)
}
process.exitCode = failed ? 1 : 0
