// Benchmark: how long the embedded engine's maintenance makes everyone else wait. One data directory
// gets --days of seeded history ending 5 days ago (1 echo every --history-interval-s for --targets documentation-address
// targets, never probed) and --targets live loopback targets (127.1.x.y) probed every second by a real
// `pingscope serve` (its own job runner off). The maintenance jobs then run from this process through
// pingscope's job runner against the same engine, with work waiting for every one of them:
//   - --backlog-min minutes of the live fleet's 1 s echoes written 48 h ago: compressible raw chunks
//     and that many 1-minute buckets to refresh again
//   - --tier-backlog-min minutes of the live fleet 97 h ago, refreshed into the 1-minute tier before the
//     measurement: a 1-minute-tier chunk of the live fleet to compress
//   - the newest compressed chunk of each tier decompressed again, so the tier compressions have work
//   - job_runs emptied, so every policy and VACUUM ANALYZE is due at the first tick
// then --steady-s seconds of the runner on its normal schedule (the 1-minute refresh every minute).
// Three clients poll the API meanwhile (GET /health and GET /targets/:id 50 ms apart, the 24 h insights
// of a live target every second, one request at a time each) and /metrics is read every second for the probe engine's lag, late rounds and dropped samples.
// Prints, per job: its duration, statements, the longest statement, the worst API request that overlapped
// it and the worst probe lag seen meanwhile.
//
//   npm run build && node dist/scripts/bench/stalls.js [--targets 1000] [--days 30] [--legacy]
//
// --legacy runs each policy in one piece (CALL run_job) and one whole-database VACUUM ANALYZE, with
// TimescaleDB's default 1-day raw chunks: pingscope before the stepped maintenance, for comparison.
// Probes only 127.0.0.0/8. Needs root (or CAP_NET_RAW) for the probe engine.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { loadConfig } from '../../src/config.js'
import { createJobRunner } from '../../src/db/maintenance/jobs.js'
import { type MaintenanceStep, createEmbeddedMaintenance } from '../../src/db/maintenance/embedded-maintenance.js'
import { refreshTier } from '../../src/db/maintenance/policies.js'
import { migrate } from '../../src/db/migrate.js'
import { openDatabase } from '../../src/db/open.js'
import { createLogger } from '../../src/log.js'
import { projectRoot } from '../../src/paths.js'
import { seedHistory } from '../../src/seed/seed.service.js'
import { freePort } from '../lib/free-port.js'

const opts = new Command()
  .option('--targets <n>', 'live loopback targets probed every second, and seeded targets', '1000')
  .option('--days <n>', 'days of seeded history', '30')
  .option('--history-interval-s <n>', 'seconds between seeded echoes', '3600')
  .option('--backlog-min <n>', 'minutes of 1 s echoes of the live fleet written 48 h ago', '20')
  .option('--tier-backlog-min <n>', 'minutes of 1 s echoes of the live fleet in the 1-minute tier, 97 h ago', '60')
  .option('--steady-s <n>', 'seconds of the runner on its normal schedule afterwards', '150')
  .option('--step-ms <n>', 'the runner step budget', '500')
  .option('--pause-ratio <x>', 'the pause after each step, as a share of its time (0: none, before issue 10)', '1')
  .option('--legacy', 'each policy in one piece, one VACUUM ANALYZE, 1-day chunks')
  .option('--print-steps', 'print every maintenance statement')
  .parse()
  .opts<{ targets: string; days: string; historyIntervalS: string; backlogMin: string; tierBacklogMin: string; steadyS: string; stepMs: string; legacy?: boolean; printSteps?: boolean; pauseRatio: string }>()
const o = {
  targets: Number(opts.targets),
  days: Number(opts.days),
  historyIntervalS: Number(opts.historyIntervalS),
  backlogMin: Number(opts.backlogMin),
  tierBacklogMin: Number(opts.tierBacklogMin),
  steadyS: Number(opts.steadyS),
  stepMs: Number(opts.stepMs),
  pauseRatio: Number(opts.pauseRatio),
  legacy: opts.legacy === true,
}

const log = createLogger('warn', 'bench')
const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const loopback = (i: number) => `127.1.${Math.floor(i / 250)}.${1 + (i % 250)}`

interface Request { path: string; start: number; ms: number; status: number }
interface MetricsRead { at: number; lagMaxMs: number; lagP99Ms: number; late: number; dropped: number; buffered: number; written: number }

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pingscope-stalls-'))
let server: ChildProcess | undefined
let stopping = false
async function cleanUp() {
  stopping = true
  if (server?.pid && server.exitCode === null) {
    server.kill('SIGTERM')
    await new Promise((r) => server!.once('exit', r))
  }
}

const config = loadConfig({ PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
const db = await openDatabase(config, { log, supervise: true })
const { sql } = db
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`)
    void cleanUp()
      .then(() => db.close())
      .finally(() => {
        rmSync(dataDir, { recursive: true, force: true })
        process.exit(130)
      })
  })
}
try {
  await migrate(sql)
  const live = await sql<{ id: number }[]>`
    insert into targets (address, name, interval_s, packets, enabled)
    select a, 'live-' || n, 1, 1, true from unnest(${Array.from({ length: o.targets }, (_, i) => loopback(i))}::text[]) with ordinality as u(a, n)
    returning id`
  // The history ends 5 days ago: it lives in the rollup tiers, and the chunks of the last days (raw, and
  // the 1-minute tier's before it compresses at 95 h) are the live fleet's, of the interval the runner
  // sets for that fleet.
  progress(`seeding ${o.targets} targets × ${o.days} days, an echo every ${o.historyIntervalS} s`)
  const seeded = await seedHistory(sql, {
    targets: o.targets, days: o.days, intervalS: o.historyIntervalS, packets: 1, loss: 0.01, seed: 42, pauseRetention: false,
    end: new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 5 * 86_400_000),
  })
  progress(`seeded ${seeded.rows} rows`)
  if (!o.legacy) await createEmbeddedMaintenance({ sql, stepMs: o.stepMs, now: () => new Date() }).sizeChunks()
  const steps: MaintenanceStep[] = []

  const backlogFrom = Math.floor((Date.now() - 48 * 3600_000) / 600_000) * 600_000
  progress(`backlog: ${o.backlogMin} min of 1 s echoes of ${o.targets} targets from ${new Date(backlogFrom).toISOString()}`)
  for (let m = 0; m < o.backlogMin; m++) {
    await sql`insert into samples (time, target_id, seq, rtt_us, ttl, status)
      select ${new Date(backlogFrom + m * 60_000)}::timestamptz + make_interval(secs => s), t.id, 0, 40 + (random() * 30)::int, 64, 0
      from generate_series(0, 59) s, targets t where t.enabled`
  }
  // An hour of the live fleet in the 1-minute tier, old enough to compress (95 h): written and refreshed
  // here, before the measurement (its raw rows are past the raw retention and dropped by the first tick).
  const tierFrom = Math.floor((Date.now() - 97 * 3600_000) / 3600_000) * 3600_000
  progress(`tier backlog: ${o.tierBacklogMin} min of 1 s echoes of ${o.targets} targets from ${new Date(tierFrom).toISOString()}, refreshed`)
  for (let m = 0; m < o.tierBacklogMin; m++) {
    await sql`insert into samples (time, target_id, seq, rtt_us, ttl, status)
      select ${new Date(tierFrom + m * 60_000)}::timestamptz + make_interval(secs => s), t.id, 0, 40 + (random() * 30)::int, 64, 0
      from generate_series(0, 59) s, targets t where t.enabled`
  }
  if (o.tierBacklogMin > 0) await refreshTier(sql, 'samples_1m', new Date(tierFrom), new Date(tierFrom + o.tierBacklogMin * 60_000))
  const decompressed = await sql<{ chunk: string }[]>`
    select decompress_chunk(c.chunk)::text as chunk from (
      select distinct on (hypertable_name) format('%I.%I', chunk_schema, chunk_name)::regclass as chunk
      from timescaledb_information.chunks where is_compressed and hypertable_name <> 'samples'
      order by hypertable_name, range_start desc) c`
  progress(`decompressed ${decompressed.map((d) => d.chunk).join(', ')}`)
  await sql`delete from job_runs`
  const chunkInterval = await sql<{ name: string; interval: string }[]>`
    select hypertable_name as name, time_interval::text as interval from timescaledb_information.dimensions order by 1`

  const port = await freePort()
  const password = 'stalls-bench-password'
  server = spawn(process.execPath, [path.join(projectRoot(), 'dist/cli/index.js'), 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOME: os.homedir(), DATA_DIR: dataDir, PORT: String(port), ADMIN_PASSWORD: password, LOG_LEVEL: 'warn', JOBS_ENABLED: 'false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 600 && !(await fetch(`${url}/health`).then((r) => r.ok, () => false)); i++) await sleep(200)
  const login = (await (await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })).json()) as { access_token: string }
  const auth = { authorization: `Bearer ${login.access_token}` }

  const requests: Request[] = []
  const reads: MetricsRead[] = []
  const poll = async (p: string, everyMs = 50) => {
    while (!stopping) {
      const start = Date.now()
      const t0 = performance.now()
      const status = await fetch(`${url}${p}`, { headers: auth }).then(async (r) => (await r.arrayBuffer(), r.status), () => 0)
      requests.push({ path: p, start, ms: performance.now() - t0, status })
      await sleep(everyMs)
    }
  }
  const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  const readMetrics = async () => {
    while (!stopping) {
      const text = await fetch(`${url}/metrics`, { headers: auth }).then((r) => r.text(), () => '')
      if (text) {
        reads.push({
          at: Date.now(),
          lagMaxMs: metric(text, 'pingscope_probe_lag_seconds\\{quantile="1"\\}') * 1000,
          lagP99Ms: metric(text, 'pingscope_probe_lag_seconds\\{quantile="0.99"\\}') * 1000,
          late: metric(text, 'pingscope_probe_late_rounds_total'),
          dropped: metric(text, 'pingscope_writer_dropped_samples_total'),
          buffered: metric(text, 'pingscope_writer_buffered_samples'),
          written: metric(text, 'pingscope_writer_written_samples_total'),
        })
      }
      await sleep(1000)
    }
  }
  // The insights of a live target over 24 h read the 1-minute tier and raw chunks: what the chunk
  // interval costs a query shows in its baseline, stepped against --legacy.
  const insightsPath = `/targets/${live[0]!.id}/insights?window_minutes=1440`
  const pollers = [poll('/health'), poll(`/targets/${live[0]!.id}`), poll(insightsPath, 1000), readMetrics()]
  progress('baseline: 20 s of probing without maintenance')
  await sleep(20_000)
  const baselineEnd = Date.now()

  const runner = createJobRunner({ sql, log, mode: 'embedded', enabled: true, pollMs: 10_000, vacuumIntervalMs: 24 * 3600_000, stepMs: o.stepMs, stepped: !o.legacy, pauseRatio: o.pauseRatio, onStep: (s) => steps.push(s) })
  progress('every job due: one tick')
  const tickFrom = new Date()
  await runner.tick()
  progress(`tick done in ${((Date.now() - tickFrom.getTime()) / 1000).toFixed(1)} s; steady schedule for ${o.steadyS} s`)
  runner.start()
  await sleep(o.steadyS * 1000)
  await runner.stop()
  await sleep(3000)
  stopping = true
  await Promise.all(pollers)

  const runs = await sql<{ jobName: string; startedAt: Date; finishedAt: Date; ok: boolean }[]>`
    select job_name, started_at, finished_at, ok from job_runs where started_at >= ${tickFrom} order by started_at`
  const worst = (from: number, to: number) => {
    const overlapping = requests.filter((r) => r.start <= to && r.start + r.ms >= from)
    return overlapping.reduce((m, r) => Math.max(m, r.ms), 0)
  }
  const lagDuring = (from: number, to: number) =>
    reads.filter((r) => r.at >= from && r.at <= to + 2000).reduce((m, r) => Math.max(m, Number.isFinite(r.lagMaxMs) ? r.lagMaxMs : 0), 0)
  const rows = runs.map((r) => {
    const from = r.startedAt.getTime()
    const to = r.finishedAt.getTime()
    const own = steps.filter((s) => s.startedAt >= from - 5 && s.startedAt <= to)
    return {
      job: r.jobName,
      ok: r.ok,
      s: ((to - from) / 1000).toFixed(2),
      statements: own.length || 1,
      longestMs: Math.round(own.length ? Math.max(...own.map((s) => s.ms)) : to - from),
      worstRequestMs: Math.round(worst(from, to)),
      probeLagMaxMs: Math.round(lagDuring(from, to)),
    }
  })
  const base = requests.filter((r) => r.start < baselineEnd)
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
  const q = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN
  const last = reads.at(-1)
  const first = reads[0]
  const failed = requests.filter((r) => r.status !== 200).length
  console.log(`\nstalls: ${o.legacy ? 'legacy (one piece)' : `stepped, ${o.stepMs} ms steps`}, ${o.targets} live targets at 1 s, ${o.days} days × ${o.targets} seeded, ${os.cpus().length} CPUs, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
  console.log(`chunk intervals: ${chunkInterval.map((c) => `${c.name} ${c.interval}`).join(', ')}`)
  if (opts.printSteps) for (const s of steps) console.log(`${new Date(s.startedAt).toISOString().slice(11, 23)} ${s.job} ${s.kind} ${Math.round(s.ms)} ms ${s.detail}`)
  console.table(rows)
  const all = requests.map((r) => r.ms)
  for (const p of new Set(requests.map((r) => r.path))) {
    const b = base.filter((r) => r.path === p).map((r) => r.ms)
    const all = requests.filter((r) => r.path === p).map((r) => r.ms)
    console.log(`  ${p}: baseline p50 ${q(b, 0.5).toFixed(1)} ms, p99 ${q(b, 0.99).toFixed(1)} ms (${b.length} requests); worst ${Math.max(...all).toFixed(0)} ms, over 1 s: ${all.filter((x) => x > 1000).length}`)
  }
  console.log(`API requests: ${requests.length} (${failed} not 200); baseline p50 ${q(base.map((r) => r.ms), 0.5).toFixed(1)} ms, p99 ${q(base.map((r) => r.ms), 0.99).toFixed(1)} ms; whole run p99 ${q(all, 0.99).toFixed(1)} ms, worst ${Math.max(...all).toFixed(0)} ms; over 1 s: ${all.filter((x) => x > 1000).length}`)
  console.log(`probe: late rounds ${last && first ? last.late - first.late : NaN}, lag max ${Math.max(...reads.map((r) => r.lagMaxMs).filter(Number.isFinite)).toFixed(0)} ms; writer: written ${last?.written}, buffered max ${Math.max(...reads.map((r) => r.buffered))}, dropped ${last?.dropped}`)
  console.log(JSON.stringify({ legacy: o.legacy, rows, requests: requests.length, failed, worstMs: Math.max(...all), over1s: all.filter((x) => x > 1000).length, dropped: last?.dropped }))
} finally {
  await cleanUp()
  await db.close()
  rmSync(dataDir, { recursive: true, force: true })
}
