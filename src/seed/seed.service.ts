import { type JobRun, runAllJobs } from '../db/maintenance/job-runs.js'
import type { Sql } from '../db/open.js'
import { refreshTier } from '../db/maintenance/policies.js'
import { type Sample, insertSamples } from '../probe/writer.js'
import { DAY_MS, HOUR_MS, SEED_TAG, createTargetHistory, seedAddress } from './generator.js'
import {
  deleteDisabledTargets,
  findAggregatesWithoutRawRows,
  findTargetWithHistory,
  findTargetsByAddress,
  insertSeedTargets,
  listScheduledRetentionJobIds,
  listSeededTargetIds,
  retimeDisabledTargets,
  setJobScheduled,
} from './seed.repo.js'

// Seeds months or years of synthetic ping history so that charts and insights have something to show.
// Rows go through the probe engine's own ingest path (insertSamples), in time order, a bounded window at
// a time: insert the window, refresh samples_1m then samples_1h over it, move on. Order matters because
// the next retention run drops raw rows after 3 days and 1m rows after 30: every tier must be
// materialised from its source before that source can go. The policy jobs run once at the end, as in
// production. Seeded targets use documentation addresses only and are created disabled, so nothing is
// ever probed.

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

interface PlannedTarget {
  address: string
  /** An existing disabled seed target without history, or null to create. */
  id: number | null
}

const reusedIds = (plan: PlannedTarget[]) => plan.flatMap((c) => (c.id === null ? [] : [c.id]))

/** Picks the addresses (read-only): free ones, or disabled seed targets; `freed` are about to go. */
async function planTargets(sql: Sql, count: number, freed: number[]): Promise<PlannedTarget[]> {
  const candidates = Array.from({ length: count + 1024 }, (_, i) => seedAddress(i))
  const existing = new Map(
    (await findTargetsByAddress(sql, candidates)).filter((r) => !freed.includes(r.id)).map((r) => [r.address, r]),
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
  const reused = reusedIds(chosen)
  if (reused.length > 0) {
    const busy = await findTargetWithHistory(sql, reused)
    if (busy) throw new Error(`seeded target ${busy} already has history: pass --reset-seeded to replace it`)
  }
  return chosen
}

async function createTargets(sql: Sql, plan: PlannedTarget[], o: SeedOptions, fromMs: number) {
  const reused = reusedIds(plan)
  if (reused.length > 0) await retimeDisabledTargets(sql, reused, o)
  const fresh = plan.flatMap((c, i) => (c.id === null ? [{ address: c.address, name: `seed-${i + 1}` }] : []))
  const created = new Map<string, number>()
  if (fresh.length > 0) {
    const rows = await insertSeedTargets(sql, fresh, { intervalS: o.intervalS, packets: o.packets, createdAt: new Date(fromMs) })
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
  const r = await findAggregatesWithoutRawRows(sql, { excludeIds: ids, from: new Date(fromMs - HOUR_MS), end: new Date(endMs) })
  if (r) {
    throw new Error(
      `other targets have aggregated history from ${r.first.toISOString()} to ${r.last.toISOString()} whose raw rows are ` +
        'gone; re-aggregating that range would erase it. Seed into a fresh DATA_DIR, or fewer --days',
    )
  }
}

// A concurrent job runner (a running `pingscope serve`, or TimescaleDB's scheduler) must not drop the
// raw chunks of a window between its insert and its refresh: retention is paused while seeding.
async function pauseRetention(sql: Sql): Promise<() => Promise<void>> {
  const ids = await listScheduledRetentionJobIds(sql)
  for (const id of ids) await setJobScheduled(sql, id, false)
  return async () => {
    try {
      for (const id of ids) await setJobScheduled(sql, id, true)
    } catch (err) {
      throw new Error(`retention jobs ${ids.join(', ')} are still paused: re-enable them with alter_job(id, scheduled => true) (${String(err)})`, { cause: err })
    }
  }
}

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
  const removable = o.resetSeeded ? await listSeededTargetIds(sql) : []
  const plan = await planTargets(sql, o.targets, removable)
  await assertNoForeignHistory(sql, [...removable, ...reusedIds(plan)], fromMs, endMs)
  await deleteDisabledTargets(sql, removable)
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
        await refreshTier(sql, 'samples_site_1m', from, to)
        ms.refresh1m += performance.now() - t
        t = performance.now()
        await refreshTier(sql, 'samples_1h', from, to)
        await refreshTier(sql, 'samples_site_1h', from, to)
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
      const { echoes, lost, outages, congestion, routeChanges, checksum } = gens[i]!.stats()
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
