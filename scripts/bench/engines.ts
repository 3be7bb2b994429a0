// Benchmark: the same workload on both engines in one run, printed side by side: the embedded engine
// (PGlite + TimescaleDB in WebAssembly, its own process, on a temp data directory) and a TimescaleDB
// server (a throwaway PostgreSQL 15 cluster on a loopback port, scripts/lib/timescale-cluster.ts, whose
// job scheduler is stopped so that only the timed work runs, as on the embedded side).
// Per engine, one after the other so they never share the CPU:
//   1. one target × --days of history through the seed script (documentation address, paused), policy
//      jobs run. Both insights windows read the 1-hour tier, one row per hour however dense the history,
//      so a round every 300 s (--history-interval-s) gives the same queries as every second, seeded faster
//   2. --targets paused targets × --hours of echoes through the probe engine's batched writer: ingest rows/s
//   3. a full refresh of samples_1m over those hours (refreshTier: `call refresh_continuous_aggregate`,
//      batches of a day of buckets where the engine takes the option, as every manual refresh in pingscope),
//      then of its per-site twin samples_site_1m over the same rows (the refresh work sites add)
//   4. after a VACUUM ANALYZE, the fleet summary behind /fleet/summary (uncached), and insights over 30
//      days and 1 year for the history target: p50/p95 of --runs runs after 2 warm-up runs (query plus JSON encoding, as the routes)
//   5. every raw chunk compressed: bytes per sample before and after
// Nothing is probed: only loopback database connections. Temp directories and the cluster go at the end,
// on error and on Ctrl-C.
//
//   node dist/scripts/bench/engines.js [--targets 1000] [--hours 24] [--interval-s 30] [--days 365]
//     [--history-interval-s 300] [--runs 20] [--engines embedded,server]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import postgres from 'postgres'
import { type Config, loadConfig } from '../../src/config.js'
import { textArrayLiteral } from '../../src/db/arrays.js'
import { migrate } from '../../src/db/migrate.js'
import { type Database, type Sql, openDatabase } from '../../src/db/open.js'
import { reconcilePolicies, refreshTier } from '../../src/db/maintenance/policies.js'
import { getInsights } from '../../src/insights/insights.service.js'
import { createPrng } from '../../src/lib/prng.js'
import { createLogger } from '../../src/log.js'
import { type Sample, createWriter } from '../../src/probe/writer.js'
import { FLEET_BUCKET_SECONDS, FLEET_WINDOW_MINUTES } from '../../src/fleet/fleet.schema.js'
import { fleetSummary } from '../../src/fleet/fleet.repo.js'
import { startCluster, timescaleInstalled } from '../lib/timescale-cluster.js'
import { SEED_NOTE, SEED_TAG, seedAddress } from '../../src/seed/generator.js'
import { seedHistory } from '../../src/seed/seed.service.js'

const opts = new Command()
  .option('--targets <n>', 'targets written through the writer (fleet summary, refresh, compression)', '1000')
  .option('--hours <n>', 'hours of echoes per target, ending now', '24')
  .option('--interval-s <n>', 'seconds between those echoes (one per round)', '30')
  .option('--days <n>', 'days of history of the insights target', '365')
  .option('--history-interval-s <n>', 'seconds between its rounds of 5 echoes', '300')
  .option('--runs <n>', 'timed runs per query (after 2 warm-up runs)', '20')
  .option('--engines <list>', 'embedded,server', 'embedded,server')
  .parse()
  .opts<{ targets: string; hours: string; intervalS: string; days: string; historyIntervalS: string; runs: string; engines: string }>()
const o = {
  targets: Number(opts.targets),
  hours: Number(opts.hours),
  intervalS: Number(opts.intervalS),
  days: Number(opts.days),
  historyIntervalS: Number(opts.historyIntervalS),
  runs: Number(opts.runs),
}

const log = createLogger('warn', 'bench')
const HOUR_MS = 3_600_000
const INSIGHT_WINDOWS: [string, number][] = [['30 d', 30 * 1440], ['1 y', 365 * 1440]]
const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`)
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

// Whatever was started is undone in reverse order: at the end, on an error, and on Ctrl-C. Calls are
// chained, so a signal arriving during the normal cleanup never runs a step twice or out of order.
const cleanups: (() => unknown)[] = []
let cleaning = Promise.resolve()
const cleanUp = () =>
  (cleaning = cleaning.then(async () => {
    for (let f = cleanups.pop(); f; f = cleanups.pop()) await Promise.resolve().then(f).catch((err) => progress(`cleanup: ${String(err)}`))
  }))
let interrupted: Promise<void> | null = null
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`)
    interrupted = cleanUp().finally(() => process.exit(130))
  })
}

interface Timed { p50: number; p95: number }
interface Figures {
  version: string
  timescale: string
  seed: { rows: number; ms: number; refresh1mMs: number }
  ingest: { rows: number; ms: number; batches: number }
  refresh: { ms: number; buckets: number; siteMs: number }
  fleet: Timed & { targets: number }
  insights: (Timed & { label: string; tier: string; buckets: number; echoes: number })[]
  size: { rows: number; chunks: number; ms: number; before: number; after: number; diskBefore: number; diskAfter: number }
}

async function timeRuns<T>(runs: number, f: () => Promise<T>): Promise<Timed & { last: T }> {
  const times: number[] = []
  let last: T | undefined
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now()
    last = await f()
    JSON.stringify(last)
    if (i >= 2) times.push(performance.now() - t0) // the first two warm up caches and plans
  }
  times.sort((a, b) => a - b)
  const q = (p: number) => times[Math.min(times.length - 1, Math.max(0, Math.ceil(p * times.length) - 1))]!
  return { p50: q(0.5), p95: q(0.95), last: last! }
}

/** The probe engine's path: one Sample per echo into createWriter, in time order over all targets. */
async function ingest(sql: Sql, config: Config, ids: number[], fromMs: number, endMs: number) {
  const writer = createWriter({ sql, log, ...config.writer })
  const rand = createPrng(7)
  const intervalMs = o.intervalS * 1000
  // Per target: a base RTT (1–150 ms), log-normal queueing noise, 1 % loss, a fixed hop count.
  const gens = ids.map((targetId) => ({
    targetId,
    phaseMs: Math.floor(rand() * intervalMs),
    baseUs: 1000 * 150 ** rand(),
    noise: 0.02 + rand() * 0.05,
    ttl: 64 - (3 + Math.floor(rand() * 22)),
    prev: null as number | null,
  }))
  const t0 = performance.now()
  let rows = 0
  for (let round = Math.floor(fromMs / intervalMs) * intervalMs; round < endMs; round += intervalMs) {
    for (const g of gens) {
      const t = round + g.phaseMs
      if (t < fromMs || t >= endMs) continue
      const lost = rand() < 0.01
      const rtt = lost ? null : Math.round(g.baseUs * (1 + g.noise * Math.exp(Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()))))
      const s: Sample = { time: new Date(t), targetId: g.targetId, seq: 0, rttUs: rtt, ttl: lost ? null : g.ttl, jitterUs: rtt === null || g.prev === null ? null : Math.abs(rtt - g.prev), status: lost ? 1 : 0, reporter: null }
      if (rtt !== null) g.prev = rtt
      writer.add(s)
      rows++
    }
    // A probe engine hands rows over as rounds complete; keep the buffer within a few batches likewise.
    while (writer.stats().buffered >= 4 * config.writer.batchRows) await new Promise((r) => setTimeout(r, 1))
    await new Promise((r) => setImmediate(r))
  }
  const left = await writer.stop()
  if (left > 0) throw new Error(`${left} rows could not be written`)
  return { rows, ms: performance.now() - t0, batches: writer.stats().batches }
}

async function workload(db: Database, config: Config): Promise<Figures> {
  const { sql } = db
  await migrate(sql)
  await reconcilePolicies(sql, config.retention)
  const [v] = await sql<{ version: string; timescale: string }[]>`
    select current_setting('server_version') as version, (select extversion from pg_extension where extname = 'timescaledb') as timescale`
  const endMs = Math.floor(Date.now() / 60_000) * 60_000
  const now = new Date(endMs)
  const fromMs = endMs - o.hours * HOUR_MS

  progress(`seeding 1 target × ${o.days} days`)
  const seed = await seedHistory(sql, { targets: 1, days: o.days, intervalS: o.historyIntervalS, packets: 5, loss: 0.01, seed: 42, end: now, pauseRetention: false })
  const historyId = seed.targets[0]!.id

  const addresses = Array.from({ length: o.targets }, (_, i) => seedAddress(i + 1)) // 0 is the history target's
  const ids = (
    await sql<{ id: number }[]>`
      insert into targets (address, name, tags, interval_s, packets, enabled, notes, created_at)
      select a, 'bench-' || n, array[${SEED_TAG}]::text[], ${o.intervalS}, 1, false, ${SEED_NOTE}, ${new Date(fromMs)}
      from unnest(${textArrayLiteral(addresses)}::text[]) with ordinality as u (a, n)
      returning id`
  ).map((r) => r.id)

  progress(`ingest: ${o.targets} targets × ${o.hours} h, an echo every ${o.intervalS} s`)
  const ing = await ingest(sql, config, ids, fromMs, endMs)

  progress('refresh samples_1m')
  const [from, to] = [new Date(fromMs), now]
  let t0 = performance.now()
  await refreshTier(sql, 'samples_1m', from, to)
  const refreshMs = performance.now() - t0
  const [m1] = await sql<{ n: number }[]>`select count(*)::int as n from samples_1m where bucket >= ${from} and bucket < ${to}`
  progress('refresh samples_site_1m')
  t0 = performance.now()
  await refreshTier(sql, 'samples_site_1m', from, to)
  const refreshSiteMs = performance.now() - t0

  // Steady state for the timed queries: fresh statistics on both engines, and nothing left for the
  // server's autovacuum to do in the middle of them (the embedded job runner vacuums once a day).
  progress('vacuum analyze')
  await sql`vacuum analyze`
  progress('fleet summary and insights')
  const fleet = await timeRuns(o.runs, () => fleetSummary(sql, { windowMinutes: FLEET_WINDOW_MINUTES, bucketS: FLEET_BUCKET_SECONDS, now }))
  const insights = []
  for (const [label, minutes] of INSIGHT_WINDOWS) {
    const r = await timeRuns(o.runs, () => getInsights(sql, historyId, { window_minutes: minutes, histogram: false }, { retention: config.retention, now }))
    insights.push({ label, p50: r.p50, p95: r.p95, tier: r.last.tier, buckets: r.last.timeline.length, echoes: r.last.sample_count })
  }

  progress('compression')
  const [before] = await sql<{ rows: number; disk: number }[]>`select count(*)::float8 as rows, hypertable_size('samples')::float8 as disk from samples`
  const chunks = await sql<{ c: string }[]>`select c::text from show_chunks('samples') c`
  t0 = performance.now()
  for (const { c } of chunks) await sql`select compress_chunk(${c}::regclass, if_not_compressed => true)`
  const compressMs = performance.now() - t0
  const [after] = await sql<{ before: number; after: number; disk: number }[]>`
    select before_compression_total_bytes::float8 as before, after_compression_total_bytes::float8 as after,
           hypertable_size('samples')::float8 as disk
    from hypertable_compression_stats('samples')`

  return {
    version: v!.version,
    timescale: v!.timescale,
    seed: { rows: seed.rows, ms: seed.ms.total, refresh1mMs: seed.ms.refresh1m },
    ingest: ing,
    refresh: { ms: refreshMs, buckets: m1!.n, siteMs: refreshSiteMs },
    fleet: { p50: fleet.p50, p95: fleet.p95, targets: fleet.last.targets.length },
    insights,
    size: { rows: before!.rows, chunks: chunks.length, ms: compressMs, before: after!.before, after: after!.after, diskBefore: before!.disk, diskAfter: after!.disk },
  }
}

async function runEmbedded(): Promise<Figures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pingscope-bench-engines-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'warn' })
  const db = await openDatabase(config, { log, supervise: true })
  cleanups.push(() => db.close())
  return workload(db, config)
}

async function runServer(): Promise<Figures> {
  const cluster = await startCluster()
  cleanups.push(() => cluster.stop())
  const admin = postgres(cluster.adminUrl, { max: 1, onnotice: () => {} })
  await admin`create database bench`
  await admin.end()
  const config = loadConfig({ DATABASE_URL: cluster.adminUrl.replace(/\/postgres$/, '/bench'), LOG_LEVEL: 'warn' })
  const db = await openDatabase(config, { log })
  cleanups.push(() => db.close())
  // TimescaleDB's scheduler would run the policies (a 1m refresh every minute) in the middle of the timed
  // work; the embedded engine runs none by itself. Stop it: only what is timed runs, as on the embedded side.
  await db.sql`create extension if not exists timescaledb`
  await db.sql`select _timescaledb_functions.stop_background_workers()`
  return workload(db, config)
}

function machine(): string {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'cpu'
  return `${model}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
// How many times the server beats the embedded engine (< 1: it is slower), for "higher is better" or not.
const vs = (emb: number, srv: number, higherIsBetter: boolean) => {
  const x = higherIsBetter ? srv / emb : emb / srv
  return x >= 1 ? `${x.toFixed(1)}× better` : `${(1 / x).toFixed(1)}× worse`
}

const engines = opts.engines.split(',').map((e) => e.trim())
const results = new Map<string, Figures>()
const load0 = loadavg()
const started = performance.now()
// The 1-minute load average every 5 s, per engine: other work on the machine slows the single-threaded
// embedded engine most. This run itself accounts for about 1 to 2 of it.
const loads = new Map<string, number[]>()
let current = ''
const loadSampler = setInterval(() => loads.get(current)?.push(Number(loadavg().split(' ')[0])), 5000)
loadSampler.unref()
try {
  for (const engine of engines) {
    progress(`— ${engine} engine`)
    current = engine
    loads.set(engine, [])
    if (engine === 'embedded') results.set(engine, await runEmbedded())
    else if (engine === 'server') {
      if (!timescaleInstalled()) progress('server: PostgreSQL 15 + TimescaleDB not installed, skipped (node scripts/test-setup.mjs)')
      else results.set(engine, await runServer())
    } else throw new Error(`unknown engine ${engine}`)
    await cleanUp()
  }
} catch (err) {
  // Closing the database under a running query makes it fail: wait for the cleanup to exit instead.
  if (interrupted) await interrupted
  throw err
} finally {
  await cleanUp()
}
const totalS = (performance.now() - started) / 1000

const cols = [...results.keys()]
const figs = cols.map((c) => results.get(c)!)
const first = figs[0]
if (!first) throw new Error('no engine ran')
const row = (label: string, cell: (f: Figures) => string, ratio?: (f: Figures) => number, higherIsBetter = false) => {
  const cmp = figs.length === 2 && ratio ? vs(ratio(figs[0]!), ratio(figs[1]!), higherIsBetter) : ''
  console.log(`| ${label} | ${figs.map(cell).join(' | ')} |${figs.length === 2 ? ` ${cmp} |` : ''}`)
}
const ms = (t: Timed) => `${fmt(t.p50, 1)} / ${fmt(t.p95, 1)}`

console.log(`\nengines benchmark — ${machine()}`)
console.log(`load average before ${load0}, after ${loadavg()}; whole run ${fmt(totalS)} s`)
const loadRange = (xs: number[]) => (xs.length ? `${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)} (mean ${fmt(xs.reduce((a, b) => a + b, 0) / xs.length, 1)})` : '–')
console.log(`1-minute load average during each engine's part (this run adds 1 to 2): ${[...results.keys()].map((c) => `${c} ${loadRange(loads.get(c) ?? [])}`).join(', ')}`)
for (const [c, f] of results) {
  console.log(
    c === 'embedded'
      ? `embedded: PGlite (PostgreSQL ${f.version}, WebAssembly) + TimescaleDB ${f.timescale}, in its own process, data directory on ${os.tmpdir()}`
      : `server: PostgreSQL ${f.version} + TimescaleDB ${f.timescale}, throwaway cluster on loopback with fsync=off, full_page_writes=off, ` +
          'synchronous_commit=off (not durable: its ingest figure is an upper bound for a real server), shared_buffers 256MB; ' +
          "TimescaleDB's job scheduler stopped, as nothing runs jobs by itself on the embedded side",
  )
}
console.log(
  `workload: 1 target × ${o.days} days seeded (5 echoes every ${o.historyIntervalS} s, ${fmt(first.seed.rows)} echoes; policy jobs run, so raw rows ` +
    `are kept 3 days, 1m rows 30); ` +
    `${fmt(o.targets)} targets × ${o.hours} h, an echo every ${o.intervalS} s (${fmt(first.ingest.rows)} echoes), through createWriter ` +
    `(batches of ${fmt(loadConfig({}).writer.batchRows)} rows); p50 / p95 over ${o.runs} runs after a VACUUM ANALYZE and 2 warm-up runs, query plus JSON encoding\n`,
)
console.log(`| measure | ${cols.join(' | ')} |${figs.length === 2 ? ' server vs embedded |' : ''}`)
console.log(`|---|${cols.map(() => '---|').join('')}${figs.length === 2 ? '---|' : ''}`)
row('ingest through the writer, rows/s', (f) => fmt(f.ingest.rows / (f.ingest.ms / 1000)), (f) => f.ingest.rows / f.ingest.ms, true)
for (const [i, w] of first.insights.entries()) {
  row(`insights ${w.label}, one target (${w.tier} tier, ${w.buckets} buckets, ${fmt(w.echoes)} echoes), p50 / p95 ms`, (f) => ms(f.insights[i]!), (f) => f.insights[i]!.p50)
}
row(`fleet summary, last hour of ${fmt(first.fleet.targets)} targets, p50 / p95 ms`, (f) => ms(f.fleet), (f) => f.fleet.p50)
row(
  `full refresh of samples_1m (refreshTier), ${o.hours} h × ${fmt(o.targets)} targets (${fmt(first.refresh.buckets)} buckets), s`,
  (f) => fmt(f.refresh.ms / 1000, 1),
  (f) => f.refresh.ms,
)
row('the same rows into the per-site tier samples_site_1m, s', (f) => fmt(f.refresh.siteMs / 1000, 1), (f) => f.refresh.siteMs)
row(`raw samples, bytes/sample before → after compression (${first.size.chunks} chunks, ${fmt(first.size.rows)} rows)`, (f) => `${fmt(f.size.before / f.size.rows)} → ${fmt(f.size.after / f.size.rows, 1)}`, (f) => f.size.after, false)
row('raw samples on disk (hypertable_size incl. index) / rows, bytes/sample before → after', (f) => `${fmt(f.size.diskBefore / f.size.rows)} → ${fmt(f.size.diskAfter / f.size.rows, 1)}`, (f) => f.size.diskAfter, false)
row('compressing those chunks, s', (f) => fmt(f.size.ms / 1000, 1), (f) => f.size.ms)
row(
  `seed script, 1 target × ${o.days} days (insert, refresh both tiers a window at a time, policy jobs), s: total (of which refresh 1m)`,
  (f) => `${fmt(f.seed.ms / 1000, 1)} (${fmt(f.seed.refresh1mMs / 1000, 1)})`,
  (f) => f.seed.ms,
)
process.exit(0)
