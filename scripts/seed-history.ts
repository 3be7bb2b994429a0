// Seeds months or years of synthetic ping history so that charts and insights have something to show.
// Rows go through the probe engine's own ingest path (insertSamples), in time order, a bounded window at
// a time: insert the window, refresh samples_1m then samples_1h over it, move on. Order matters because
// the next retention run drops raw rows after 3 days and 1m rows after 30: every tier must be
// materialised from its source before that source can go. The policy jobs run once at the end, as in
// production. Seeded targets use documentation addresses only and are created disabled, so nothing is
// ever probed.
//
//   DATA_DIR=./data node --import tsx scripts/seed-history.ts --targets 10 --days 90 --interval-s 60
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command, CommanderError } from 'commander'
import { z } from 'zod'
import { UsageError } from '../cli/output.js'
import { describeIssue } from '../cli/parse.js'
import { ConfigError, loadConfig, readEnv } from '../src/config.js'
import { type JobRun, runAllJobs } from '../src/db/jobs.js'
import { migrate } from '../src/db/migrate.js'
import { type Sql, openDatabase } from '../src/db/open.js'
import { reconcilePolicies, refreshTier } from '../src/db/policies.js'
import { createLogger } from '../src/log.js'
import { type Sample, insertSamples } from '../src/probe/writer.js'
import { createPrng } from '../src/lib/prng.js'
import { intArrayLiteral, textArrayLiteral } from '../src/db/arrays.js'
import { deleteTargetData } from '../src/targets/target-data.repo.js'

export const SEED_TAG = 'seed'
export const SEED_NOTE = 'synthetic history (never probed)'

const MIN_MS = 60_000
const HOUR_MS = 60 * MIN_MS
const DAY_MS = 24 * HOUR_MS

export interface SeedOptions {
  targets: number
  days: number
  intervalS: number
  packets: number
  /** Background loss probability per echo, on top of congestion and outages. */
  loss: number
  seed: number
  /** Delete disabled `seed`-tagged targets and all their rows first. */
  resetSeeded?: boolean
  /** End of the history (default now); the same `end` and `seed` give the same rows. */
  end?: Date
  /** Rows per insert (≤ 10,000). */
  batchRows?: number
  /** Upper bound on raw rows per refresh window: a refresh blocks the embedded backend while it runs. */
  windowRows?: number
  /**
   * Pause the retention jobs while seeding (default true). Needed when another process may run them
   * meanwhile; a caller that owns its embedded engine may skip it, since Ctrl-C stops that engine too
   * and the jobs could not be resumed.
   */
  pauseRetention?: boolean
  signal?: AbortSignal
}

export interface SeedProgress {
  phase: 'history' | 'jobs' | 'done'
  /** Share of the time range written and materialised, 0..1. */
  fraction: number
  rows: number
  window: number
  windows: number
  elapsedMs: number
}

export interface SeededTarget {
  id: number
  address: string
  reused: boolean
  /** Echoes generated (rows), of which lost, and the synthetic incidents behind the losses. */
  echoes: number
  lost: number
  outages: number
  congestion: number
  routeChanges: number
  /** FNV-1a over every generated row: equal for equal seed, end and options. */
  checksum: string
}

export interface SeedReport {
  targets: SeededTarget[]
  removedTargets: number
  rows: number
  inserted: number
  from: Date
  to: Date
  windows: number
  windowHours: number
  /** Ingest throughput: rows over generate + insert time. */
  rowsPerS: number
  ms: { setup: number; generate: number; insert: number; refresh1m: number; refresh1h: number; jobs: number; total: number }
  jobs: JobRun[]
}

// ---------------------------------------------------------------------------------------------------
// Synthetic measurements: one deterministic PRNG stream per target, consumed round by round, so the
// rows depend on (seed, target index, end) only, never on how the range is split into windows.

const fnv = (h: number, v: number) => Math.imul(h ^ (v >>> 0), 16777619)

// Mean time between incidents per target, and their durations.
const OUTAGE_EVERY_S = 8 * 86_400
const CONGESTION_EVERY_S = 2 * 86_400
const ROUTE_CHANGE_EVERY_S = 12 * 86_400

interface GeneratorOptions {
  intervalS: number
  packets: number
  loss: number
  spacingMs: number
  endMs: number
}

function createTargetHistory(seed: number, index: number, targetId: number, o: GeneratorOptions) {
  const rand = createPrng(fnv(fnv(0x811c9dc5, seed), index))
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const logUniform = (lo: number, hi: number) => lo * (hi / lo) ** rand()
  const hazard = (everyS: number) => 1 - Math.exp(-o.intervalS / everyS)

  const intervalMs = o.intervalS * 1000
  const phaseMs = Math.floor(rand() * intervalMs)
  let baseUs = logUniform(1_000, 150_000)
  let hops = 3 + Math.floor(rand() * 22)
  const diurnal = 0.02 + rand() * 0.13 // busy-hour latency rise, as a share of the baseline
  const peakHourUtc = rand() * 24
  const noiseUs = 20 + baseUs * (0.005 + rand() * 0.04) // median queueing delay, log-normal
  const noiseSigma = 0.4 + rand() * 0.6
  const pOutage = hazard(OUTAGE_EVERY_S)
  const pCongestion = hazard(CONGESTION_EVERY_S)
  const pRoute = hazard(ROUTE_CHANGE_EVERY_S)
  // The probe engine's gap between the echoes of a round.
  const gapMs = Math.min(o.spacingMs, Math.floor(intervalMs / o.packets / 2))
  const lastRoundMs = o.endMs - (o.packets - 1) * gapMs - 10

  let next = 0
  let outageUntil = 0
  let congestionUntil = 0
  let congestionUs = 0
  let congestionLoss = 0
  let prevRtt: number | null = null
  const stats = { echoes: 0, lost: 0, outages: 0, congestion: 0, routeChanges: 0, hash: 0x811c9dc5 }

  function round(t: number, out: Sample[]) {
    if (t >= outageUntil && rand() < pOutage) {
      outageUntil = t + logUniform(3 * MIN_MS, HOUR_MS)
      stats.outages++
    }
    if (t >= congestionUntil && rand() < pCongestion) {
      congestionUntil = t + logUniform(10 * MIN_MS, 3 * HOUR_MS)
      congestionUs = baseUs * logUniform(0.2, 3)
      congestionLoss = logUniform(0.01, 0.25)
      stats.congestion++
    }
    if (rand() < pRoute) {
      baseUs = Math.min(200_000, Math.max(800, baseUs * Math.exp((rand() - 0.5) * 0.6)))
      hops = Math.min(40, Math.max(2, hops + (rand() < 0.5 ? -1 : 1) * (1 + Math.floor(rand() * 3))))
      stats.routeChanges++
    }
    const down = t < outageUntil
    const congested = t < congestionUntil
    const hourUtc = (t % DAY_MS) / HOUR_MS
    const level = baseUs * (1 + diurnal * Math.sin((2 * Math.PI * (hourUtc - peakHourUtc + 6)) / 24))
    const lossP = o.loss + (congested ? congestionLoss : 0)
    let time = t + Math.floor(rand() * 4) // scheduling lag
    for (let seq = 0; seq < o.packets; seq++) {
      if (seq > 0) time += gapMs + Math.floor(rand() * 2)
      let rttUs: number | null = null
      if (!down && rand() >= lossP) {
        let rtt = level + noiseUs * Math.exp(noiseSigma * gauss())
        if (congested) rtt += congestionUs * (0.5 + rand())
        if (rand() < 0.002) rtt += baseUs * (1 + 4 * rand()) // lone spike: ICMP handled late by a router
        rttUs = Math.max(30, Math.round(rtt))
      }
      const s: Sample = {
        time: new Date(time),
        targetId,
        seq,
        rttUs,
        ttl: rttUs === null ? null : 64 - hops,
        jitterUs: rttUs === null || prevRtt === null ? null : Math.abs(rttUs - prevRtt),
        status: rttUs === null ? 1 : 0,
        reporter: null,
      }
      if (rttUs !== null) prevRtt = rttUs
      else stats.lost++
      stats.echoes++
      let h = fnv(fnv(stats.hash, time), time / 4294967296)
      h = fnv(fnv(fnv(h, seq), rttUs ?? -1), s.ttl ?? -1)
      stats.hash = h
      out.push(s)
    }
  }

  return {
    start(fromMs: number) {
      next = Math.ceil((fromMs - phaseMs) / intervalMs) * intervalMs + phaseMs
    },
    /** Appends whole rounds before `untilMs` while `out` has room; true once the window is done. */
    fill(out: Sample[], limit: number, untilMs: number): boolean {
      const stop = Math.min(untilMs, lastRoundMs)
      while (next < stop) {
        if (out.length + o.packets > limit) return false
        round(next, out)
        next += intervalMs
      }
      return true
    },
    stats: () => ({ ...stats, checksum: (stats.hash >>> 0).toString(16).padStart(8, '0') }),
  }
}

// ---------------------------------------------------------------------------------------------------
// Targets.

/** The documentation networks seeded targets use (RFC 5737, RFC 3849): never routed, never probed. */
export const SEED_NETWORKS = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'] as const

/** Documentation addresses (SEED_NETWORKS), round-robin over the four blocks, then IPv6 only. */
export function seedAddress(i: number): string {
  const k = Math.floor(i / 4)
  if (k < 254) {
    const block = i % 4
    if (block < 3) return `${SEED_NETWORKS[block]!.replace(/\.0\/24$/, '')}.${k + 1}`
    return `2001:db8::${(k + 1).toString(16)}`
  }
  return `2001:db8::1:${(i - 4 * 254).toString(16)}`
}

/** Targets a reset may delete: seeded ones, and only while disabled. */
async function seededTargetIds(sql: Sql): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`select id from targets where ${SEED_TAG} = any (tags) and not enabled`
  return rows.map((r) => r.id)
}

/** Deletes targets with their raw and aggregated rows (compressed ones too, at any size). */
async function deleteTargets(sql: Sql, ids: number[]): Promise<void> {
  if (ids.length === 0) return
  await deleteTargetData(sql, ids, async (tx) => {
    await tx`delete from targets where id = any (${intArrayLiteral(ids)}::int[]) and not enabled`
  })
}

interface PlannedTarget {
  address: string
  /** An existing disabled seed target without history, or null to create. */
  id: number | null
}

/** Picks the addresses (read-only): free ones, or disabled seed targets; `freed` are about to go. */
async function planTargets(sql: Sql, count: number, freed: number[]): Promise<PlannedTarget[]> {
  const candidates = Array.from({ length: count + 1024 }, (_, i) => seedAddress(i))
  const existing = new Map(
    (
      await sql<{ id: number; address: string; enabled: boolean; tags: string[] }[]>`
        select id, address, enabled, tags from targets where address = any (${textArrayLiteral(candidates)}::text[])`
    )
      .filter((r) => !freed.includes(r.id))
      .map((r) => [r.address, r]),
  )
  const chosen: PlannedTarget[] = []
  for (const address of candidates) {
    if (chosen.length === count) break
    const t = existing.get(address)
    // An address in use by anything but a disabled seed target is left alone.
    if (!t) chosen.push({ address, id: null })
    else if (!t.enabled && t.tags.includes(SEED_TAG)) chosen.push({ address, id: t.id })
  }
  if (chosen.length < count) throw new Error(`only ${chosen.length} documentation addresses are free for seeding`)
  const reused = chosen.flatMap((c) => (c.id === null ? [] : [c.id]))
  if (reused.length > 0) {
    const [busy] = await sql<{ address: string }[]>`
      select t.address from targets t
      where t.id = any (${intArrayLiteral(reused)}::int[]) and exists (select 1 from samples_1h h where h.target_id = t.id)
      limit 1`
    if (busy) throw new Error(`seeded target ${busy.address} already has history: pass --reset-seeded to replace it`)
  }
  return chosen
}

async function createTargets(sql: Sql, plan: PlannedTarget[], o: SeedOptions, fromMs: number) {
  const reused = plan.flatMap((c) => (c.id === null ? [] : [c.id]))
  if (reused.length > 0) {
    await sql`update targets set interval_s = ${o.intervalS}, packets = ${o.packets}
              where id = any (${intArrayLiteral(reused)}::int[]) and not enabled`
  }
  const fresh = plan.flatMap((c, i) => (c.id === null ? [{ address: c.address, name: `seed-${i + 1}` }] : []))
  const created = new Map<string, number>()
  if (fresh.length > 0) {
    const rows = await sql<{ id: number; address: string }[]>`
      insert into targets (address, name, tags, interval_s, packets, enabled, notes, created_at)
      select a, n, array[${SEED_TAG}]::text[], ${o.intervalS}, ${o.packets}, false, ${SEED_NOTE}, ${new Date(fromMs)}
      from unnest(${textArrayLiteral(fresh.map((f) => f.address))}::text[], ${textArrayLiteral(fresh.map((f) => f.name))}::text[]) as u (a, n)
      on conflict (address) do nothing
      returning id, address`
    for (const r of rows) created.set(r.address, r.id)
    if (created.size < fresh.length) throw new Error('a seed address was taken meanwhile: run the seed again')
  }
  return plan.map((c) => ({ address: c.address, id: c.id ?? created.get(c.address)!, reused: c.id !== null }))
}

/**
 * Refreshing a range recomputes it from the tier below. Where another target's raw rows are already
 * gone, that would replace its aggregates with nothing: refuse instead.
 */
async function assertNoForeignHistory(sql: Sql, ids: number[], fromMs: number, endMs: number) {
  const [r] = await sql<{ first: Date | null; last: Date | null }[]>`
    select min(bucket) as first, max(bucket) as last from samples_1h
    where bucket >= ${new Date(fromMs - HOUR_MS)}
      -- hours that end before the first raw row: their raw rows are gone (retention drops whole days).
      -- An hour holding the first raw row is not: a target that started probing at 10:37 has a 10:00
      -- bucket with every one of its raw rows still there.
      and bucket + interval '1 hour' <= coalesce((select min(time) from samples), ${new Date(endMs)})
      and target_id <> all (${intArrayLiteral(ids)}::int[])`
  if (r?.first) {
    throw new Error(
      `other targets have aggregated history from ${r.first.toISOString()} to ${r.last!.toISOString()} whose raw rows are ` +
        'gone; re-aggregating that range would erase it. Seed into a fresh DATA_DIR, or fewer --days',
    )
  }
}

// A concurrent job runner (a running `pingscope serve`, or TimescaleDB's scheduler) must not drop the
// raw chunks of a window between its insert and its refresh: retention is paused while seeding.
async function pauseRetention(sql: Sql): Promise<() => Promise<void>> {
  const ids = (
    await sql<{ jobId: number }[]>`
      select job_id from timescaledb_information.jobs
      where proc_name = 'policy_retention' and scheduled and hypertable_name in ('samples', 'samples_1m', 'samples_1h')`
  ).map((j) => j.jobId)
  for (const id of ids) await sql`select alter_job(${id}, scheduled => false)`
  return async () => {
    try {
      for (const id of ids) await sql`select alter_job(${id}, scheduled => true)`
    } catch (err) {
      throw new Error(`retention jobs ${ids.join(', ')} are still paused: re-enable them with alter_job(id, scheduled => true) (${String(err)})`, { cause: err })
    }
  }
}

// ---------------------------------------------------------------------------------------------------

/** The largest window (whole hours dividing a day, or whole days) holding at most `maxRows` rows. */
function windowHoursFor(rowsPerHour: number, maxRows: number): number {
  const choices = [168, 120, 96, 72, 48, 24, 12, 8, 6, 4, 3, 2, 1]
  return choices.find((h) => h * rowsPerHour <= maxRows) ?? 1
}

export async function seedHistory(sql: Sql, options: SeedOptions, onProgress?: (p: SeedProgress) => void): Promise<SeedReport> {
  const o = { batchRows: 10_000, windowRows: 250_000, ...options }
  const t0 = performance.now()
  const endMs = (o.end ?? new Date()).getTime()
  const fromMs = endMs - Math.round(o.days * DAY_MS)
  const lastWholeHour = Math.floor(endMs / HOUR_MS) * HOUR_MS
  const ms = { setup: 0, generate: 0, insert: 0, refresh1m: 0, refresh1h: 0, jobs: 0, total: 0 }

  // Every check before the first change: a refused seed leaves the database as it was.
  const removable = o.resetSeeded ? await seededTargetIds(sql) : []
  const plan = await planTargets(sql, o.targets, removable)
  const ours = [...removable, ...plan.flatMap((c) => (c.id === null ? [] : [c.id]))]
  await assertNoForeignHistory(sql, ours, fromMs, endMs)
  await deleteTargets(sql, removable)
  const targets = await createTargets(sql, plan, o, fromMs)
  const gens = targets.map((t, i) => {
    const g = createTargetHistory(o.seed, i, t.id, { intervalS: o.intervalS, packets: o.packets, loss: o.loss, spacingMs: 100, endMs })
    g.start(fromMs)
    return g
  })

  const windowHours = windowHoursFor((o.targets * o.packets * 3600) / o.intervalS, o.windowRows)
  const windowMs = windowHours * HOUR_MS
  const bounds = [fromMs]
  for (let b = Math.floor(fromMs / windowMs + 1) * windowMs; b < endMs; b += windowMs) bounds.push(b)
  bounds.push(endMs)
  const windows = bounds.length - 1
  ms.setup = performance.now() - t0

  let rows = 0
  let inserted = 0
  let pending: Promise<number> | null = null
  async function settle() {
    if (!pending) return
    const t = performance.now()
    inserted += await pending
    pending = null
    ms.insert += performance.now() - t
  }
  async function send(batch: Sample[]) {
    await settle()
    rows += batch.length
    pending = insertSamples(sql, batch)
    // Let the statement go out, so that the engine inserts while the next batch is generated here.
    await new Promise((r) => setImmediate(r))
  }
  const progress = (phase: SeedProgress['phase'], window: number, fraction: number) =>
    onProgress?.({ phase, fraction, rows, window, windows, elapsedMs: performance.now() - t0 })

  const resume = o.pauseRetention === false ? async () => {} : await pauseRetention(sql)
  try {
    for (let w = 0; w < windows; w++) {
      if (o.signal?.aborted) throw new Error('interrupted: the windows written so far stay (--reset-seeded starts over)')
      const [wStart, wEnd] = [bounds[w]!, bounds[w + 1]!]
      let batch: Sample[] = []
      for (const [i, g] of gens.entries()) {
        for (;;) {
          const t = performance.now()
          const done = g.fill(batch, o.batchRows, wEnd)
          ms.generate += performance.now() - t
          if (done) break
          await send(batch)
          batch = []
          progress('history', w + 1, (wStart - fromMs + ((wEnd - wStart) * i) / gens.length) / (endMs - fromMs))
        }
      }
      if (batch.length > 0) await send(batch)
      await settle()

      // Whole buckets only; the open hour at the end is left to real-time aggregation.
      const from = new Date(Math.floor(wStart / HOUR_MS) * HOUR_MS)
      const to = new Date(Math.min(wEnd, lastWholeHour))
      if (to > from) {
        let t = performance.now()
        await refreshTier(sql, 'samples_1m', from, to)
        ms.refresh1m += performance.now() - t
        t = performance.now()
        await refreshTier(sql, 'samples_1h', from, to)
        ms.refresh1h += performance.now() - t
      }
      progress('history', w + 1, (wEnd - fromMs) / (endMs - fromMs))
    }
  } finally {
    await settle().catch(() => {})
    await resume()
  }

  progress('jobs', windows, 1)
  const t = performance.now()
  const jobs = await runAllJobs(sql)
  ms.jobs = performance.now() - t
  ms.total = performance.now() - t0
  progress('done', windows, 1)
  const ingestMs = ms.generate + ms.insert

  return {
    targets: targets.map((tg, i) => {
      const s = gens[i]!.stats()
      const { echoes, lost, outages, congestion, routeChanges, checksum } = s
      return { ...tg, echoes, lost, outages, congestion, routeChanges, checksum }
    }),
    removedTargets: removable.length,
    rows,
    inserted,
    from: new Date(fromMs),
    to: new Date(endMs),
    windows,
    windowHours,
    rowsPerS: ingestMs > 0 ? Math.round((rows / ingestMs) * 1000) : 0,
    ms: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v)])) as SeedReport['ms'],
    jobs,
  }
}

// ---------------------------------------------------------------------------------------------------
// Command line.

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

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Parses argv into options; throws a one-line UsageError on anything invalid. */
export function parseFlags(argv: string[]): z.infer<typeof flagsSchema> {
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

function createProgressPrinter(quiet: boolean) {
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

function summary(r: SeedReport, o: SeedOptions, openMs: number): string {
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

async function main(argv: string[]): Promise<number> {
  let flags: ReturnType<typeof parseFlags>
  try {
    flags = parseFlags(argv)
  } catch (err) {
    if (err instanceof CommanderError) return 0 // --help
    process.stderr.write(`seed-history: ${(err as Error).message}\n`)
    return 2
  }
  let config
  try {
    config = loadConfig(readEnv())
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const p of err.problems) process.stderr.write(`seed-history: config: ${p}\n`)
    return 2
  }
  if (flags.days > config.retention.hourDays) {
    process.stderr.write(`seed-history: --days must be at most the 1-hour retention (${config.retention.hourDays} days)\n`)
    return 2
  }
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'seed')
  const abort = new AbortController()
  process.once('SIGINT', () => abort.abort())
  process.once('SIGTERM', () => abort.abort())
  const t0 = performance.now()
  let db: Awaited<ReturnType<typeof openDatabase>>
  try {
    db = await openDatabase(config, { log, max: 1 })
  } catch (err) {
    process.stderr.write(`seed-history: ${(err as Error).message.split('\n')[0]}\n`)
    return 1
  }
  try {
    await migrate(db.sql)
    await reconcilePolicies(db.sql, config.retention)
    const openMs = performance.now() - t0
    // An engine this process started dies with it on Ctrl-C, and nobody else runs jobs on it meanwhile.
    const options: SeedOptions = { ...flags, pauseRetention: !db.engine?.owned, signal: abort.signal }
    const report = await seedHistory(db.sql, options, createProgressPrinter(flags.quiet))
    process.stdout.write(`${summary(report, options, openMs)}\n`)
    return report.jobs.every((j) => j.ok) ? 0 : 1
  } catch (err) {
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}seed-history: ${(err as Error).message.split('\n')[0]}\n`)
    return 1
  } finally {
    await db.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2))
}
