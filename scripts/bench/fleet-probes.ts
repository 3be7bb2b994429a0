// Benchmark: a probe fleet on a TimescaleDB server (issue 12). P `pingscope probe` processes share N
// loopback targets (127.x.y.z) probed every second, on a throwaway PostgreSQL 15 + TimescaleDB cluster
// (scripts/lib/timescale-cluster.ts; its job scheduler runs as in production). After the fleet has
// settled (every target leased), --seconds of steady state are measured; then one probe is SIGKILLed and
// --after seconds more run. Printed:
//   - samples/s stored in the steady window against the schedule (N/s), slots probed twice or missed;
//   - scheduling lag per probe, p50/p99/max: each sample's send time against its slot (phase + k·1 s),
//     counted for the probe that held the target's lease in that window;
//   - failover: for the killed probe's targets, the time from the kill to their first sample from
//     another probe (p50 / max), and the slots missed meanwhile, against the 3-heartbeat bound;
//   - CPU % and RSS of each probe process and of the database cluster.
// Probes only 127.0.0.0/8. Needs root (CAP_NET_RAW), `npm run build`, and the server lane's PostgreSQL +
// TimescaleDB (scripts/test-setup.mjs installs them). Everything started is stopped at the end, on an
// error and on Ctrl-C.
//
//   node dist/scripts/bench/fleet-probes.js [--probes 4] [--targets 20000] [--seconds 60] [--after 30]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import postgres from 'postgres'
import { textArrayLiteral } from '../../src/db/arrays.js'
import { projectRoot } from '../../src/paths.js'
import { phaseMs } from '../../src/probe/slots.js'
import { startCluster, timescaleInstalled } from '../lib/timescale-cluster.js'

const opts = new Command()
  .option('--probes <n>', 'probe processes', '4')
  .option('--targets <n>', 'loopback targets in all (each probe holds targets / probes)', '20000')
  .option('--seconds <s>', 'steady state measured before the kill', '60')
  .option('--after <s>', 'seconds run after the kill', '30')
  .option('--heartbeat-ms <ms>', 'PROBE_HEARTBEAT_MS of every probe', '2000')
  .parse()
  .opts<{ probes: string; targets: string; seconds: string; after: string; heartbeatMs: string }>()
const PROBES = Number(opts.probes)
const TARGETS = Number(opts.targets)
const STEADY_S = Number(opts.seconds)
const AFTER_S = Number(opts.after)
const HEARTBEAT_MS = Number(opts.heartbeatMs)

const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–')
const maxOf = (xs: number[]) => xs.reduce((m, x) => (x > m ? x : m), -Infinity)
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN
}

/** CPU seconds (user + system) and RSS (MB) of a process, from /proc; null once it is gone. */
function usage(pid: number): { cpuS: number; rssMb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { cpuS: (Number(f[11]) + Number(f[12])) / 100, rssMb: (Number(f[21]) * 4096) / 1e6 }
  } catch {
    return null
  }
}

/** The cluster's processes: the postmaster whose data directory is under `dir`, and its children. */
function clusterPids(dir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
  const rows = out
    .trim()
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!, m[3]!] as const)
  const root = rows.find(([, , args]) => args.includes('postgres') && args.includes(dir))
  if (!root) return []
  return [Number(root[0]), ...rows.filter(([, ppid]) => ppid === root[0]).map(([pid]) => Number(pid))]
}

function loopback(i: number): string {
  return `127.${100 + Math.floor(i / (256 * 250))}.${Math.floor(i / 250) % 256}.${1 + (i % 250)}`
}

const cleanups: (() => unknown)[] = []
let cleaning = Promise.resolve()
const cleanUp = () =>
  (cleaning = cleaning.then(async () => {
    for (let f = cleanups.pop(); f; f = cleanups.pop()) await Promise.resolve().then(f).catch((err) => progress(`cleanup: ${String(err)}`))
  }))
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`)
    void cleanUp().finally(() => process.exit(130))
  })
}

interface Probe {
  name: string
  child: ChildProcess
  exited: Promise<void>
  cpu0?: number
  cpu1?: number
  rssMb?: number
}

async function main() {
  if (!timescaleInstalled()) throw new Error('PostgreSQL 15 + TimescaleDB are not installed: run scripts/test-setup.mjs first')
  const cluster = await startCluster()
  cleanups.push(() => cluster.stop())
  const admin = postgres(cluster.adminUrl, { max: 1, onnotice: () => {} })
  await admin`create database bench`
  await admin.end()
  const url = cluster.adminUrl.replace(/\/postgres$/, '/bench')
  const cli = path.join(projectRoot(), 'dist', 'cli', 'index.js')
  execFileSync(process.execPath, [cli, 'migrate'], { env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }, stdio: 'inherit' })
  const sql = postgres(url, { max: 2, onnotice: () => {}, transform: postgres.camel })
  cleanups.push(() => sql.end())
  await sql`
    insert into targets (address, interval_s, packets, timeout_ms)
    select a, 1, 1, 1000 from unnest(${textArrayLiteral(Array.from({ length: TARGETS }, (_, i) => loopback(i)))}::inet[]) a`
  progress(`${TARGETS} targets at 1 s, ${PROBES} probes, heartbeat ${HEARTBEAT_MS} ms; ${os.cpus().length} CPUs, load ${loadavg()}`)

  const probes: Probe[] = []
  for (let i = 0; i < PROBES; i++) {
    const name = `bench-${i + 1}`
    const child = spawn(process.execPath, [cli, 'probe'], {
      env: { ...process.env, DATABASE_URL: url, PROBE_NAME: name, PROBE_HEARTBEAT_MS: String(HEARTBEAT_MS), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    probes.push({ name, child, exited })
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await Promise.race([exited, sleep(15_000)])
      }
    })
  }

  // Settled: every target leased, each probe holding its share.
  const t0 = Date.now()
  const share = Math.ceil(TARGETS / PROBES)
  for (;;) {
    const held = await sql<{ name: string; n: number }[]>`
      select p.name, count(*)::int as n from probe_leases l join probes p on p.id = l.probe_id
      where l.expires_at > now() group by 1`
    const total = held.reduce((a, h) => a + h.n, 0)
    if (held.length === PROBES && total === TARGETS && held.every((h) => h.n <= share)) break
    if (Date.now() - t0 > 180_000) throw new Error(`not settled after 180 s: ${JSON.stringify(held)}`)
    await sleep(500)
  }
  progress(`settled in ${((Date.now() - t0) / 1000).toFixed(1)} s; warming up 10 s`)
  await sleep(10_000)

  // --- Steady window.
  const owner = new Map<number, string>()
  for (const r of await sql<{ targetId: number; name: string }[]>`
    select l.target_id, p.name from probe_leases l join probes p on p.id = l.probe_id where l.expires_at > now()`) owner.set(r.targetId, r.name)
  const cluster0 = clusterPids(cluster.dir).reduce((a, pid) => a + (usage(pid)?.cpuS ?? 0), 0)
  for (const p of probes) p.cpu0 = usage(p.child.pid!)?.cpuS ?? 0
  const w0 = Date.now()
  await sleep(STEADY_S * 1000)
  const w1 = Date.now()
  for (const p of probes) {
    const u = usage(p.child.pid!)
    p.cpu1 = u?.cpuS ?? 0
    p.rssMb = u?.rssMb ?? 0
  }
  const clusterCpu = (clusterPids(cluster.dir).reduce((a, pid) => a + (usage(pid)?.cpuS ?? 0), 0) - cluster0) / ((w1 - w0) / 1000)
  const ownerAfter = new Map<number, string>()
  for (const r of await sql<{ targetId: number; name: string }[]>`
    select l.target_id, p.name from probe_leases l join probes p on p.id = l.probe_id where l.expires_at > now()`) ownerAfter.set(r.targetId, r.name)
  const moved = [...owner].filter(([id, name]) => ownerAfter.get(id) !== name).length

  // --- Kill one, once the steady window's samples are surely written (writers flush every second): a
  // SIGKILL loses the samples still in the killed process's buffer, counted below as missed slots.
  await sleep(2500)
  const victim = probes[0]!
  const victimTargets = [...owner].filter(([, name]) => name === victim.name).map(([id]) => id)
  const killedAt = Date.now()
  victim.child.kill('SIGKILL')
  await victim.exited
  progress(`SIGKILLed ${victim.name} (${victimTargets.length} targets); running ${AFTER_S} s more`)
  await sleep(AFTER_S * 1000)
  const endAt = Date.now()

  // Let the writers flush (1 s batches), then read.
  await sleep(3000)
  const rows = await sql<{ targetId: number; t: number }[]>`
    select target_id, (extract(epoch from time) * 1000)::float8 as t from samples
    where time >= ${new Date(w0)} and time < ${new Date(endAt)}`
  const slot = (id: number, t: number) => Math.floor((t - phaseMs(id, 1000)) / 1000)
  const lagBy = new Map<string, number[]>(probes.map((p) => [p.name, []]))
  const seen = new Map<number, Set<number>>()
  let inWindow = 0
  let doubles = 0
  const firstAfterKill = new Map<number, number>()
  const victimSet = new Set(victimTargets)
  for (const r of rows) {
    const s = slot(r.targetId, r.t)
    if (r.t < w1) {
      inWindow++
      let set = seen.get(r.targetId)
      if (!set) seen.set(r.targetId, (set = new Set()))
      if (set.has(s)) doubles++
      set.add(s)
      const lag = r.t - (phaseMs(r.targetId, 1000) + s * 1000)
      const who = owner.get(r.targetId)
      if (who && ownerAfter.get(r.targetId) === who) lagBy.get(who)!.push(lag)
    }
    if (victimSet.has(r.targetId) && r.t > killedAt) {
      const prev = firstAfterKill.get(r.targetId)
      if (prev === undefined || r.t < prev) firstAfterKill.set(r.targetId, r.t)
    }
  }
  // Slots of the steady window each target should have (due inside it, at least 100 ms before its end so
  // that a round's lag does not carry it out of the window) that have no sample.
  let missing = 0
  for (let id = 1; id <= TARGETS; id++) {
    const set = seen.get(id) ?? new Set<number>()
    for (let k = slot(id, w0 - 1) + 1; k <= slot(id, w1 - 101); k++) if (!set.has(k)) missing++
  }
  const failover = victimTargets.map((id) => (firstAfterKill.get(id) ?? Infinity) - killedAt)
  const neverBack = failover.filter((f) => !Number.isFinite(f)).length
  // Slots of the killed probe's targets with no sample, from the end of the steady window until each
  // target's first sample from another probe: the lost buffer plus the handover.
  let gapSlots = 0
  for (const id of victimTargets) {
    const back = firstAfterKill.get(id)
    if (back === undefined) continue
    const got = new Set(rows.filter((r) => r.targetId === id && r.t >= w1 && r.t < back).map((r) => slot(id, r.t)))
    gapSlots += slot(id, back) - slot(id, w1 - 1) - 1 - got.size
  }

  console.log(
    `\nfleet-probes: ${PROBES} probes × ${fmt(TARGETS / PROBES, 0)} targets = ${fmt(TARGETS, 0)} loopback targets at 1 s, TimescaleDB ${cluster.timescaleVersion} on PostgreSQL 15, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), load ${loadavg()}`,
  )
  console.log(`steady ${fmt((w1 - w0) / 1000)} s: ${fmt(inWindow / ((w1 - w0) / 1000))} samples/s stored of ${fmt(TARGETS, 0)} scheduled; ${doubles} slots probed twice, ${missing} missed; ${moved} leases moved`)
  console.log(`database cluster CPU ${fmt(clusterCpu * 100)} %`)
  console.log('| probe | targets | lag p50 / p99 / max (ms) | CPU % | RSS MB |')
  console.log('|---|---|---|---|---|')
  for (const p of probes) {
    const lags = lagBy.get(p.name)!
    const n = [...owner.values()].filter((x) => x === p.name).length
    console.log(
      `| ${p.name} | ${fmt(n, 0)} | ${fmt(pct(lags, 0.5))} / ${fmt(pct(lags, 0.99))} / ${fmt(maxOf(lags))} | ` +
        `${fmt((((p.cpu1 ?? 0) - (p.cpu0 ?? 0)) / ((w1 - w0) / 1000)) * 100)} | ${fmt(p.rssMb ?? 0, 0)} |`,
    )
  }
  console.log(
    `failover after SIGKILL of ${victim.name}: its ${victimTargets.length} targets probed again after p50 ${fmt(pct(failover.filter(Number.isFinite), 0.5) / 1000, 2)} s, ` +
      `max ${fmt(maxOf(failover.filter(Number.isFinite)) / 1000, 2)} s (bound: 3 heartbeats = ${fmt((3 * HEARTBEAT_MS) / 1000, 1)} s + 1 round)` +
      `${neverBack ? `; ${neverBack} never probed again` : ''}; ${fmt(gapSlots / Math.max(1, victimTargets.length), 1)} slots missed per target (the killed buffer and the handover)`,
  )
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => cleanUp())
