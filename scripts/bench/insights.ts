// Benchmark: /targets/{id}/insights over long histories. Seeds N days of synthetic history (the seed
// script's own generator and ingest path, 1-minute and 1-hour tiers materialised, policy jobs run, so
// raw rows older than 3 days and 1-minute rows older than 30 days are gone as in production) into a
// fresh embedded data directory, then times the insights service for windows from 15 minutes to 90 days:
// every query it makes (target, tier buckets, outages) plus the JSON encoding, as the route runs it.
//
//   node --import tsx scripts/bench/insights.ts [--targets 3] [--days 90] [--interval-s 60] [--packets 5] [--runs 20] [--keep]
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { getInsights } from '../../src/insights/insights.service.js'
import { loadConfig } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'
import { openDatabase } from '../../src/db/open.js'
import { reconcilePolicies } from '../../src/db/policies.js'
import { createLogger } from '../../src/log.js'
import { seedHistory } from '../seed-history.js'

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

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

const dir = mkdtempSync(path.join(os.tmpdir(), 'pingscope-bench-insights-'))
const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' })
const log = createLogger('silent', 'bench')
const db = await openDatabase(config, { log })
let failed = false
try {
  await migrate(db.sql)
  await reconcilePolicies(db.sql, config.retention)
  const days = Number(opts.days)
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
  const [counts] = await db.sql<{ raw: number; m1: number; h1: number }[]>`
    select (select count(*) from samples)::int as raw, (select count(*) from samples_1m)::int as m1, (select count(*) from samples_1h)::int as h1`

  const runs = Number(opts.runs)
  const rows: string[] = []
  for (const [label, minutes] of WINDOWS) {
    const times: number[] = []
    const tiers = new Set<string>()
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
      buckets = r.timeline.length
      samples = r.sample_count
    }
    times.sort((a, b) => a - b)
    const p50 = quantile(times, 0.5)
    const p95 = quantile(times, 0.95)
    rows.push(`| ${label} | ${[...tiers].join(', ')} | ${buckets} | ${samples.toLocaleString('en-US')} | ${p50.toFixed(1)} | ${p95.toFixed(1)} |`)
    if (minutes === 90 * 1440 && (p95 >= LIMIT_90D_MS || !tiers.has('1h') || tiers.size !== 1)) failed = true
  }

  console.log(`\ninsights benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, embedded engine`)
  console.log(
    `history: ${ids.length} targets × ${days} days, ${seed.rows.toLocaleString('en-US')} echoes seeded in ${(seed.ms.total / 1000).toFixed(0)} s; ` +
      `kept after the policy jobs: ${counts!.raw.toLocaleString('en-US')} raw rows, ${counts!.m1.toLocaleString('en-US')} 1m rows, ${counts!.h1.toLocaleString('en-US')} 1h rows`,
  )
  console.log(`${runs} runs per window, round-robin over the targets, after 2 warm-up runs; default bucket size\n`)
  console.log('| window | tier | buckets | echoes in window (one target) | p50 ms | p95 ms |')
  console.log('|---|---|---|---|---|---|')
  for (const r of rows) console.log(r)
  console.log(`\n90-day window from the 1h tier with p95 < ${LIMIT_90D_MS} ms: ${failed ? 'NO' : 'yes'}`)
} finally {
  await db.close()
  if (!opts.keep) rmSync(dir, { recursive: true, force: true })
  else console.log(`data directory kept: ${dir}`)
}
process.exitCode = failed ? 1 : 0
