// Benchmark: N loopback targets (127.x.y.z) probed every second for a fixed time by the real probe engine
// (raw ICMP, scheduler, batched writer) writing to the embedded TimescaleDB, then the same target list
// pinged by fping for a side-by-side ratio. Prints achieved echoes/s against the schedule, scheduling lag
// p50/p99, CPU % and RSS of the app process and of the engine process, and rows written.
//
//   node dist/scripts/bench/scheduler.js --targets 1000,5000,10000 --seconds 30
//
// Probes only 127.0.0.0/8. Needs root (or CAP_NET_RAW) and fping (scripts/test-setup.mjs installs it).
import { spawn } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { loadConfig } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'
import { openDatabase } from '../../src/db/open.js'
import { createLogger } from '../../src/log.js'
import { createIcmpPinger } from '../../src/probe/icmp.js'
import { createScheduler } from '../../src/probe/scheduler.js'
import { createWriter } from '../../src/probe/writer.js'
import { textArrayLiteral } from '../../src/db/arrays.js'

const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'bench')

function loopback(i: number): string {
  return `127.${1 + Math.floor(i / (256 * 254))}.${Math.floor(i / 254) % 256}.${1 + (i % 254)}`
}

/** CPU seconds (user + system) and RSS of another process, from /proc. */
function procUsage(pid: number): { cpuS: number; rssMb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    const rssPages = Number(fields[21])
    return { cpuS: ticks / 100, rssMb: (rssPages * 4096) / 1e6 }
  } catch {
    return null
  }
}

const pct = (xs: Float64Array | number[], p: number) => {
  const s = Array.from(xs).sort((a, b) => a - b)
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN
}

interface Result {
  targets: number
  seconds: number
  scheduled: number
  echoes: number
  echoesPerS: number
  lagP50: number
  lagP99: number
  lagMax: number
  late: number
  missed: number
  lost: number
  appCpu: number
  appRssMb: number
  engineCpu: number
  engineRssMb: number
  rows: number
  fpingSent: number
  fpingWall: number
  fpingCpu: number
  fpingLost: number
  fpingError: string | null
}

async function benchPingscope(n: number, seconds: number, packets: number): Promise<Omit<Result, 'fpingSent' | 'fpingWall' | 'fpingCpu' | 'fpingLost' | 'fpingError'>> {
  const dataDir = path.join(os.tmpdir(), `pingscope-bench-${process.pid}-${n}`)
  rmSync(dataDir, { recursive: true, force: true })
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
  const db = await openDatabase(config, { log, supervise: true })
  try {
    await migrate(db.sql)
    const addresses = Array.from({ length: n }, (_, i) => loopback(i))
    await db.sql`
      insert into targets (address, interval_s, packets, timeout_ms)
      select a, 1, ${packets}, 1000 from unnest(${textArrayLiteral(addresses)}::text[]) a`
    const pinger = createIcmpPinger()
    const writer = createWriter({ sql: db.sql, log })
    const lags: number[] = []
    let echoes = 0
    let lost = 0
    let measuring = false
    const scheduler = createScheduler({
      sql: db.sql,
      log,
      pinger,
      writer,
      concurrency: Math.max(5000, n * 2),
      onRound: (r) => {
        if (!measuring) return
        lags.push(r.lagMs)
        echoes += r.sent
        lost += r.sent - r.received
      },
    })
    await scheduler.start()
    await new Promise((r) => setTimeout(r, 2000)) // warm-up: first staggered rounds, JIT
    const enginePid = db.engine!.pid
    const cpu0 = process.cpuUsage()
    const eng0 = procUsage(enginePid)
    let rss = 0
    let engRss = 0
    measuring = true
    const t0 = performance.now()
    const sampler = setInterval(() => {
      rss = Math.max(rss, process.memoryUsage().rss / 1e6)
      engRss = Math.max(engRss, procUsage(enginePid)?.rssMb ?? 0)
    }, 1000)
    await new Promise((r) => setTimeout(r, seconds * 1000))
    measuring = false
    const wall = (performance.now() - t0) / 1000
    clearInterval(sampler)
    const cpu = process.cpuUsage(cpu0)
    const eng1 = procUsage(enginePid)
    const stats = scheduler.stats()
    await scheduler.stop()
    await writer.stop()
    pinger.close()
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from samples`
    return {
      targets: n,
      seconds,
      scheduled: n * packets,
      echoes,
      echoesPerS: echoes / wall,
      lagP50: pct(lags, 0.5),
      lagP99: pct(lags, 0.99),
      lagMax: pct(lags, 1),
      late: stats.lateRounds,
      missed: stats.missedRounds,
      lost,
      appCpu: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
      appRssMb: rss,
      engineCpu: eng0 && eng1 ? ((eng1.cpuS - eng0.cpuS) / wall) * 100 : NaN,
      engineRssMb: engRss,
      rows: row!.n,
    }
  } finally {
    await db.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function benchFping(n: number, seconds: number): Promise<{ sent: number; wall: number; cpu: number; lost: number; error: string | null }> {
  const list = path.join(os.tmpdir(), `pingscope-bench-fping-${process.pid}.txt`)
  writeFileSync(list, Array.from({ length: n }, (_, i) => loopback(i)).join('\n'))
  const t0 = performance.now()
  // -p 1000: each target once a second; -i 0: no gap between packets to different targets (root).
  const child = spawn('fping', ['-q', '-c', String(seconds), '-p', '1000', '-i', '0', '-t', '1000', '-f', list], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  let cpuS = 0
  child.stderr.on('data', (d) => (err += d))
  const sampler = setInterval(() => {
    cpuS = procUsage(child.pid!)?.cpuS ?? cpuS
  }, 250)
  await new Promise((r) => child.on('exit', r))
  clearInterval(sampler)
  const wall = (performance.now() - t0) / 1000
  rmSync(list, { force: true })
  let xmt = 0
  let rcv = 0
  for (const m of err.matchAll(/xmt\/rcv\/%loss = (\d+)\/(\d+)/g)) {
    xmt += Number(m[1])
    rcv += Number(m[2])
  }
  const error = /fping error: ([^\n(]*)/.exec(err)?.[1]?.trim() ?? null
  return { sent: xmt, wall, cpu: (cpuS / wall) * 100, lost: xmt - rcv, error }
}

const program = new Command()
  .option('--targets <list>', 'comma-separated target counts', '1000,5000,10000')
  .option('--seconds <n>', 'measured seconds per run', '30')
  .option('--packets <n>', 'echoes per round', '1')
  .option('--no-fping', 'skip the fping comparison')
  .parse()
const opts = program.opts<{ targets: string; seconds: string; packets: string; fping: boolean }>()

const results: Result[] = []
for (const n of opts.targets.split(',').map(Number)) {
  const p = await benchPingscope(n, Number(opts.seconds), Number(opts.packets))
  const f = opts.fping ? await benchFping(n, Number(opts.seconds)) : { sent: NaN, wall: NaN, cpu: NaN, lost: NaN, error: null }
  const r: Result = { ...p, fpingSent: f.sent, fpingWall: f.wall, fpingCpu: f.cpu, fpingLost: f.lost, fpingError: f.error }
  results.push(r)
  console.error(JSON.stringify(r))
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–')
const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–')
console.log(`\nscheduler benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${opts.seconds} s per run, ${opts.packets} echo(es) per round\n`)
// fping gets the same list with -c <seconds> -p 1000: each target once a second. Its line says how many of
// the scheduled echoes it sent, in what wall time and at what CPU; the last column compares CPU per echo.
console.log('| targets | scheduled echoes/s | achieved echoes/s | lag p50 / p99 / max (ms) | late / missed rounds | lost | app CPU % / RSS MB | engine CPU % / RSS MB | rows written | fping: sent of scheduled, wall s, CPU % | CPU per echo, pingscope (app + engine) / fping |')
console.log('|---|---|---|---|---|---|---|---|---|---|---|')
for (const r of results) {
  console.log(
    `| ${f0(r.targets)} | ${f0(r.scheduled)} | ${f0(r.echoesPerS)} | ${f1(r.lagP50)} / ${f1(r.lagP99)} / ${f1(r.lagMax)} | ${f0(r.late)} / ${f0(r.missed)} | ${f0(r.lost)} | ${f1(r.appCpu)} / ${f0(r.appRssMb)} | ${f1(r.engineCpu)} / ${f0(r.engineRssMb)} | ${f0(r.rows)} | ${r.fpingError ? `failed after ${f1(r.fpingWall)} s: ${r.fpingError}` : `${f0(r.fpingSent)} of ${f0(r.targets * r.seconds)}, ${f1(r.fpingWall)} s, ${f1(r.fpingCpu)} %`} | ${r.fpingError ? '–' : f1((r.appCpu + r.engineCpu) / r.echoesPerS / (r.fpingCpu / (r.fpingSent / r.fpingWall)))} |`,
  )
}
process.exit(0)
