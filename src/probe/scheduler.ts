import pLimit from 'p-limit'
import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import type { ProbeTarget } from '../targets/targets.repo.js'
import { MinHeap } from './heap.js'
import type { EchoResult, Pinger } from './icmp.js'
import type { LeaseView } from './held-leases.js'
import { createOutageTracker } from './outage-tracker.js'
import { createOutageWrites } from './outage-writes.js'
import { createProbeStats, type SchedulerStats } from './probe-stats.js'
import { catchUpSlot, handoverSlot, nextSlot, phaseMs } from './slots.js'
import { type ProbeStore, type SampleSink, createDatabaseStore } from './store.js'
import { diffTargets } from './target-set.js'

export type { SchedulerStats } from './probe-stats.js'
export { nextSlot, phaseMs } from './slots.js'

// Pings every enabled target every interval_s on an absolute schedule: round k of a target is due at
// phase + k·interval (epoch-aligned), so probe and write times never make it drift, and the phases spread
// the first rounds of 10,000 targets across the interval instead of firing them in one burst. A round
// sends `packets` echoes spaced apart, so it yields a loss fraction and jitter. Changes made by any
// process (API, CLI) are seen within `reloadMs`. A round that starts late is counted; a slot that is
// missed altogether is counted as missed, never silently shifted. The loop never dies: a failed probe
// is a result, a failed write is the writer's to retry.
//
// createScheduler composes: the timer loop over slots (slot arithmetic in slots.ts), rounds, the outage
// state machine (outage-tracker.ts; its writes in outage-writes.ts), reading and diffing the targets (target-set.ts) and the counters
// behind stats() (probe-stats.ts). In a fleet it probes only the targets `leases` holds (leases.ts): one
// taken over from another probe keeps its slots, starting at the first slot after the previous holder
// was done with it, and `drain` stops probing those given away. What it reads and writes besides ICMP
// goes through a ProbeStore (store.ts): the database's, or the remote agent's (src/agent/).

export interface SchedulerOptions {
  /** The database (its ProbeStore is built from it and `site`); or give `store` instead. */
  sql?: Sql
  /** Targets, open outages and outage writes without a database (the remote agent). */
  store?: ProbeStore
  log: Logger
  pinger: Pinger
  writer: SampleSink
  /** Rounds in flight at once (p-limit). */
  concurrency?: number
  reloadMs?: number
  /** Gap between the echoes of one round (capped so a round fits in its interval). */
  packetSpacingMs?: number
  /** A round starting later than this after its slot counts as late. */
  lateMs?: number
  outageOpenRounds?: number
  now?: () => number
  onRound?: (r: RoundSummary) => void
  /** Outage transitions and target-set changes, as they happen (live updates). */
  onOutage?: (targetId: number, state: 'open' | 'closed', cause?: string) => void
  onTargetsChanged?: () => void
  /** This probe's leases in a fleet; without it every enabled target is probed here. */
  leases?: LeaseView
  /** The probe's site (PROBE_SITE): its outages are its own. Default 'default'. */
  site?: string
}

export interface RoundSummary {
  targetId: number
  /** When the first echo of the round was sent. */
  time: Date
  due: number
  lagMs: number
  sent: number
  received: number
  rttUs: (number | null)[]
}

interface TargetState {
  t: ProbeTarget
  /** Bumped when the target is re-timed: heap entries of an older generation are stale. */
  gen: number
  nextDue: number
  prevRttUs: number | null
  /** Leased to another probe: rounds still in flight are written, nothing else happens to it here. */
  handedOff?: boolean
}

type Echo = { time: Date; r: EchoResult }

function storeOf(opts: SchedulerOptions): ProbeStore {
  if (opts.store) return opts.store
  if (!opts.sql) throw new Error('createScheduler needs `sql` or `store`')
  return createDatabaseStore(opts.sql, opts.site)
}

export function createScheduler(opts: SchedulerOptions) {
  const { log, pinger, writer } = opts
  const store = storeOf(opts)
  // Sub-millisecond wall clock, so scheduling lag is measured finer than Date.now() allows.
  const now = opts.now ?? (() => performance.timeOrigin + performance.now())
  const reloadMs = opts.reloadMs ?? 1000
  const spacingMs = opts.packetSpacingMs ?? 100
  const limit = pLimit(opts.concurrency ?? 5000)
  const stats = createProbeStats({ now, lateMs: opts.lateMs ?? 50 })

  const targets = new Map<number, TargetState>()
  const heap = new MinHeap<{ id: number; gen: number }>()
  let timer: NodeJS.Timeout | undefined
  let reloadTimer: NodeJS.Timeout | undefined
  let fingerprint = ''
  let rows: ProbeTarget[] = []
  let appliedLeases = -1
  let running = false
  // Reloads run one at a time (the timer's, and the ones leases ask for), in the order asked.
  let reloading: Promise<void> = Promise.resolve()
  const inFlight = new Map<Promise<void>, number>() // round → target id
  const outageWrites = createOutageWrites({ store, log, keepTrying: () => running })
  const outages = createOutageTracker({
    openAfterRounds: opts.outageOpenRounds ?? 3,
    open(o) {
      outageWrites.open(o)
      opts.onOutage?.(o.targetId, 'open', o.cause)
    },
    close(c) {
      outageWrites.close(c)
      opts.onOutage?.(c.targetId, 'closed')
    },
  })

  // --- Slot timing: a min-heap of (due, target) and one timer armed for the earliest slot.

  // Callers arm the timer once after queueing a batch (a tick, a reload), not once per target.
  function schedule(s: TargetState, due: number) {
    s.nextDue = due
    heap.push(due, { id: s.t.id, gen: s.gen })
  }

  function arm() {
    if (!running) return
    const key = heap.peekKey()
    if (key === undefined) return
    clearTimeout(timer)
    timer = setTimeout(tick, Math.max(0, key - now()))
  }

  function tick() {
    const t = now()
    for (;;) {
      const key = heap.peekKey()
      if (key === undefined || key > t) break
      const { value } = heap.pop()!
      const s = targets.get(value.id)
      if (!s || s.gen !== value.gen) continue // paused, deleted or re-timed since
      const intervalMs = s.t.intervalS * 1000
      const slot = catchUpSlot(key, t, intervalMs)
      if (slot.missed) stats.recordMissedSlots(slot.missed)
      startRound(s, slot.due)
      schedule(s, slot.due + intervalMs)
    }
    arm()
  }

  // --- Rounds: send the echoes, write the samples, feed the outage tracker, report.

  function startRound(s: TargetState, due: number) {
    const target = s.t
    const p = limit(async () => {
      if (targets.get(target.id) !== s) return // paused, deleted or handed off while queued
      const lagMs = now() - due
      stats.recordRoundStart(lagMs)
      const results = await sendEchoes(target)
      stats.recordRoundDone(target.packets)
      // A target deleted meanwhile: its samples would outlive it. One handed off: they are its last.
      const cur = targets.get(target.id) ?? (s.handedOff ? s : undefined)
      if (!cur) return
      finishRound(cur, target, due, lagMs, results)
    })
    inFlight.set(p, target.id)
    void p.finally(() => inFlight.delete(p))
  }

  /** The round's echoes, `packets` of them spaced apart, each stamped with when it was sent. */
  async function sendEchoes(target: ProbeTarget): Promise<Echo[]> {
    const gap = Math.min(spacingMs, Math.floor((target.intervalS * 1000) / target.packets / 2))
    const sends: Promise<Echo>[] = []
    for (let seq = 0; seq < target.packets; seq++) {
      if (seq > 0 && gap > 0) await new Promise((r) => setTimeout(r, gap))
      const time = new Date(now())
      sends.push(pinger.echo(target.address, target.timeoutMs).then((r) => ({ time, r })))
    }
    return Promise.all(sends)
  }

  function finishRound(cur: TargetState, target: ProbeTarget, due: number, lagMs: number, results: Echo[]) {
    let received = 0
    let lastReply: Date | null = null
    results.forEach(({ time, r }, seq) => {
      let jitterUs: number | null = null
      if (r.rttUs !== null) {
        received++
        lastReply = time
        if (cur.prevRttUs !== null) jitterUs = Math.abs(r.rttUs - cur.prevRttUs)
        cur.prevRttUs = r.rttUs
      }
      writer.add({ time, targetId: target.id, seq, rttUs: r.rttUs, ttl: r.ttl, jitterUs, status: r.status, reporter: r.reporter })
    })
    const time = results[0]!.time
    if (!cur.handedOff) outages.recordRound(target.id, { at: time, replyAt: lastReply, echoes: results.map((x) => x.r) })
    opts.onRound?.({ targetId: target.id, time, due, lagMs, sent: target.packets, received, rttUs: results.map((x) => x.r.rttUs) })
  }

  // --- Targets: follow the table, whoever changes it.

  /** `openOutages`: lost rounds of the open outages, for targets taken over from another probe. */
  function applyTargets(rows: ProbeTarget[], initial: boolean, openOutages: ReadonlyMap<number, number>) {
    const t = now()
    const leases = opts.leases
    const { changes, removed } = diffTargets(new Map([...targets].map(([id, s]) => [id, s.t])), rows, leases && ((id) => leases.holds(id)))
    for (const c of changes) {
      const row = c.row
      const intervalMs = row.intervalS * 1000
      if (c.kind === 'added') {
        const st: TargetState = { t: row, gen: 0, nextDue: 0, prevRttUs: null }
        targets.set(row.id, st)
        const phase = phaseMs(row.id, intervalMs)
        const doneAt = leases?.doneAt(row.id) ?? null
        if (doneAt !== null) {
          // Taken over: its slots go on where the previous holder stopped, and so does an open outage.
          schedule(st, handoverSlot(t, doneAt, intervalMs, phase))
          const lost = openOutages.get(row.id)
          if (lost !== undefined) outages.resume(row.id, lost)
        } else if (initial) {
          schedule(st, nextSlot(t, intervalMs, phase)) // the phases spread the fleet over the interval
        } else {
          // Added or resumed: probed at once so the change shows immediately, then on its phase.
          startRound(st, t)
          schedule(st, nextSlot(t + 1, intervalMs, phase))
        }
        continue
      }
      const s = targets.get(row.id)!
      s.t = row
      if (c.addressChanged) s.prevRttUs = null
      if (c.intervalChanged) {
        // The round already scheduled keeps its slot; the new interval applies from the one after.
        s.gen++
        schedule(s, Math.min(s.nextDue, nextSlot(t, intervalMs, phaseMs(row.id, intervalMs))))
      }
    }
    for (const id of removed) {
      targets.delete(id) // paused or deleted: its queued slots become stale
      outages.forget(id)
    }
    arm()
  }

  async function reload(initial = false) {
    if (!running) return
    try {
      const loaded = await store.loadTargetsIfChanged(fingerprint, initial)
      const leasesMoved = opts.leases !== undefined && opts.leases.version() !== appliedLeases
      if (!loaded && !leasesMoved) return
      // Targets taken over may have an outage open: read them before applying (only when leases moved).
      const openOutages = new Map<number, number>()
      if (leasesMoved) for (const o of await store.listOpenOutages()) openOutages.set(o.targetId, o.lostRounds)
      if (loaded) {
        fingerprint = loaded.fingerprint
        rows = loaded.rows
        stats.recordReload()
      }
      // Synchronous from here: applied with the leases held at this very moment.
      appliedLeases = opts.leases?.version() ?? 0
      applyTargets(rows, initial, openOutages)
      if (loaded && !initial) opts.onTargetsChanged?.()
      stats.recordReloadError(null)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      stats.recordReloadError(message)
      log.warn({ err: message }, 'cannot read targets; keeping the current schedule')
    }
  }

  function queueReload(initial = false): Promise<void> {
    reloading = reloading.then(() => reload(initial))
    return reloading
  }

  function loopReload() {
    if (!running) return
    reloadTimer = setTimeout(() => void queueReload().finally(loopReload), reloadMs)
  }

  return {
    async start() {
      running = true
      const openAtStart = new Map<number, number>()
      try {
        for (const o of await store.listOpenOutages()) openAtStart.set(o.targetId, o.lostRounds)
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot read open outages')
      }
      await queueReload(true)
      // Outages survive restarts: the state machine resumes where it was.
      for (const [id, lost] of openAtStart) if (targets.has(id)) outages.resume(id, lost)
      loopReload()
    },
    /** Stops scheduling, waits for rounds in flight (their samples reach the writer) and outage writes. */
    async stop() {
      running = false
      clearTimeout(timer)
      clearTimeout(reloadTimer)
      await reloading
      await Promise.all([...inFlight.keys()])
      await outageWrites.settled()
    },
    /** Re-reads the targets (and applies the leases held) now instead of at the next reload tick. */
    reload: () => queueReload(),
    /**
     * Stops probing these targets at once (their leases are being given away) and resolves when none of
     * their rounds is in flight any more; those rounds' samples are still written.
     */
    async drain(ids: number[]) {
      const gone = new Set(ids)
      for (const id of ids) {
        const s = targets.get(id)
        if (!s) continue
        s.handedOff = true
        targets.delete(id)
        outages.forget(id)
      }
      await Promise.all([...inFlight].filter(([, id]) => gone.has(id)).map(([p]) => p))
    },
    stats(): SchedulerStats {
      return stats.snapshot({
        targets: targets.size,
        inFlightRounds: limit.activeCount + limit.pendingCount,
        inFlightEchoes: pinger.inFlight(),
      })
    },
  }
}

export type Scheduler = ReturnType<typeof createScheduler>
