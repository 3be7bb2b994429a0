import pLimit from 'p-limit'
import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { closeOutage, listOpenOutages, openOutage } from '../outages/outages.repo.js'
import { type ProbeTarget, listProbeTargets, targetsFingerprint } from '../targets/targets.repo.js'
import { MinHeap } from './heap.js'
import { EchoStatus, type EchoResult, type Pinger } from './icmp.js'
import type { Writer } from './writer.js'

// Pings every enabled target every interval_s on an absolute schedule: round k of a target is due at
// phase + k·interval (epoch-aligned), so probe and write times never make it drift, and the phases spread
// the first rounds of 10,000 targets across the interval instead of firing them in one burst. A round
// sends `packets` echoes spaced apart, so it yields a loss fraction and jitter. Changes made by any
// process (API, CLI) are seen within `reloadMs`. A round that starts late is counted; a slot that is
// missed altogether is counted as missed, never silently shifted. The loop never dies: a failed probe
// is a result, a failed write is the writer's to retry.

export interface SchedulerOptions {
  sql: Sql
  log: Logger
  pinger: Pinger
  writer: Writer
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

export interface SchedulerStats {
  targets: number
  rounds: number
  echoes: number
  lateRounds: number
  missedRounds: number
  inFlightRounds: number
  inFlightEchoes: number
  echoesPerSecond: number
  lagP50Ms: number | null
  lagP99Ms: number | null
  lagMaxMs: number | null
  reloads: number
  lastReloadError: string | null
}

interface TargetState {
  t: ProbeTarget
  gen: number
  nextDue: number
  prevRttUs: number | null
  lostRounds: number
  firstLostAt: Date | null
  outageOpen: boolean
}

/** Deterministic phase of a target inside its interval (Knuth multiplicative hash of the id). */
export function phaseMs(id: number, intervalMs: number): number {
  return ((id * 2654435761) >>> 0) % intervalMs
}

/** The first slot `phase + k·interval` at or after `now`. */
export function nextSlot(now: number, intervalMs: number, phase: number): number {
  const k = Math.ceil((now - phase) / intervalMs)
  return phase + k * intervalMs
}

const LAG_WINDOW = 20_000
const ECHO_WINDOW_S = 10

export function createScheduler(opts: SchedulerOptions) {
  const { sql, log, pinger, writer } = opts
  // Sub-millisecond wall clock, so scheduling lag is measured finer than Date.now() allows.
  const now = opts.now ?? (() => performance.timeOrigin + performance.now())
  const reloadMs = opts.reloadMs ?? 1000
  const lateMs = opts.lateMs ?? 50
  const spacingMs = opts.packetSpacingMs ?? 100
  const outageOpenRounds = opts.outageOpenRounds ?? 3
  const limit = pLimit(opts.concurrency ?? 5000)

  const targets = new Map<number, TargetState>()
  const heap = new MinHeap<{ id: number; gen: number }>()
  let timer: NodeJS.Timeout | undefined
  let reloadTimer: NodeJS.Timeout | undefined
  let fingerprint = ''
  let running = false
  let reloading: Promise<void> | null = null
  const inFlight = new Set<Promise<void>>()
  // Outage transitions are written in order, retried until the database takes them.
  let outageChain: Promise<void> = Promise.resolve()
  const lags = new Float64Array(LAG_WINDOW)
  let lagCount = 0
  // Echoes of completed rounds per second over the last 10 s, for a rate: a fixed ring, whatever the load.
  const echoSeconds = new Float64Array(ECHO_WINDOW_S)
  const echoCounts = new Float64Array(ECHO_WINDOW_S)
  const stats = { rounds: 0, echoes: 0, lateRounds: 0, missedRounds: 0, reloads: 0, lastReloadError: null as string | null }

  function recordLag(ms: number) {
    lags[lagCount % LAG_WINDOW] = ms
    lagCount++
  }

  function recordEchoes(n: number) {
    const sec = Math.floor(now() / 1000)
    const i = sec % ECHO_WINDOW_S
    if (echoSeconds[i] !== sec) {
      echoSeconds[i] = sec
      echoCounts[i] = 0
    }
    echoCounts[i]! += n
  }

  function enqueueOutage(fn: () => Promise<void>) {
    outageChain = outageChain.then(async () => {
      for (let attempt = 0; running || attempt === 0; attempt++) {
        try {
          await fn()
          return
        } catch (err) {
          if (attempt === 0) log.warn({ err: (err as Error).message }, 'outage write failed; retrying')
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)))
        }
      }
    })
  }

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
      let due = key
      // Whole slots already gone are not made up in a burst: they are counted as missed.
      if (t - due >= intervalMs) {
        const missed = Math.floor((t - due) / intervalMs)
        stats.missedRounds += missed
        due += missed * intervalMs
      }
      startRound(s, due)
      schedule(s, due + intervalMs)
    }
    arm()
  }

  function startRound(s: TargetState, due: number) {
    const target = s.t
    const p = limit(async () => {
      const startedAt = now()
      const lagMs = startedAt - due
      recordLag(lagMs)
      if (lagMs > lateMs) stats.lateRounds++
      const packets = target.packets
      const gap = Math.min(spacingMs, Math.floor((target.intervalS * 1000) / packets / 2))
      const sends: Promise<{ time: Date; r: EchoResult }>[] = []
      for (let seq = 0; seq < packets; seq++) {
        if (seq > 0 && gap > 0) await new Promise((r) => setTimeout(r, gap))
        const time = new Date(now())
        sends.push(pinger.echo(target.address, target.timeoutMs).then((r) => ({ time, r })))
      }
      const results = await Promise.all(sends)
      stats.rounds++
      stats.echoes += packets
      recordEchoes(packets)
      const cur = targets.get(target.id)
      // A target deleted meanwhile: its samples would outlive it.
      if (!cur) return
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
      updateOutage(cur, results[0]!.time, received, lastReply, results)
      opts.onRound?.({ targetId: target.id, time: results[0]!.time, due, lagMs, sent: packets, received, rttUs: results.map((x) => x.r.rttUs) })
    })
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
  }

  function updateOutage(s: TargetState, roundAt: Date, received: number, replyAt: Date | null, results: { r: EchoResult }[]) {
    const id = s.t.id
    if (received > 0) {
      if (s.outageOpen) {
        const lost = s.lostRounds
        const at = replyAt ?? roundAt
        enqueueOutage(() => closeOutage(sql, { targetId: id, endedAt: at, lostRounds: lost }))
        s.outageOpen = false
        opts.onOutage?.(id, 'closed')
      }
      s.lostRounds = 0
      s.firstLostAt = null
      return
    }
    if (s.lostRounds === 0) s.firstLostAt = roundAt
    s.lostRounds++
    if (!s.outageOpen && s.lostRounds >= outageOpenRounds) {
      s.outageOpen = true
      const unreachable = results.some((x) => x.r.status === EchoStatus.unreachable)
      const cause = unreachable ? `unreachable (reported by ${results.find((x) => x.r.reporter)?.r.reporter ?? 'a router'})` : 'timeout'
      const o = { targetId: id, startedAt: s.firstLostAt ?? roundAt, lostRounds: s.lostRounds, cause }
      enqueueOutage(async () => {
        await openOutage(sql, o)
      })
      opts.onOutage?.(id, 'open', cause)
    }
  }

  function apply(rows: ProbeTarget[], initial: boolean) {
    const t = now()
    const seen = new Set<number>()
    for (const row of rows) {
      if (!row.enabled) continue
      seen.add(row.id)
      const s = targets.get(row.id)
      const intervalMs = row.intervalS * 1000
      if (!s) {
        const st: TargetState = { t: row, gen: 0, nextDue: 0, prevRttUs: null, lostRounds: 0, firstLostAt: null, outageOpen: false }
        targets.set(row.id, st)
        // At start the phases spread the fleet over the interval; a target added or resumed later is
        // probed at once so the change shows immediately, then falls into its phase.
        schedule(st, initial ? nextSlot(t, intervalMs, phaseMs(row.id, intervalMs)) : t)
        continue
      }
      const old = s.t
      s.t = row
      if (old.address !== row.address) s.prevRttUs = null
      if (old.intervalS !== row.intervalS) {
        // The round already scheduled keeps its slot; the new interval applies from the one after.
        s.gen++
        const next = Math.min(s.nextDue, nextSlot(t, intervalMs, phaseMs(row.id, intervalMs)))
        schedule(s, next)
      }
    }
    for (const id of [...targets.keys()]) {
      if (!seen.has(id)) targets.delete(id) // paused or deleted: its queued slots become stale
    }
    arm()
  }

  async function reload(initial = false) {
    try {
      const fp = await targetsFingerprint(sql)
      if (fp === fingerprint && !initial) return
      const rows = await listProbeTargets(sql)
      fingerprint = fp
      stats.reloads++
      apply(rows, initial)
      if (!initial) opts.onTargetsChanged?.()
      stats.lastReloadError = null
    } catch (err) {
      stats.lastReloadError = err instanceof Error ? err.message : String(err)
      log.warn({ err: stats.lastReloadError }, 'cannot read targets; keeping the current schedule')
    }
  }

  function loopReload() {
    if (!running) return
    reloadTimer = setTimeout(() => {
      reloading = reload().finally(() => {
        reloading = null
        loopReload()
      })
    }, reloadMs)
  }

  return {
    async start() {
      running = true
      const outageOpenIds = new Map<number, number>()
      try {
        for (const o of await listOpenOutages(sql)) {
          // Outages survive restarts: the state machine resumes where it was.
          outageOpenIds.set(o.targetId, o.lostRounds)
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot read open outages')
      }
      await reload(true)
      for (const [id, lost] of outageOpenIds) {
        const s = targets.get(id)
        if (s) {
          s.outageOpen = true
          s.lostRounds = lost
        }
      }
      loopReload()
    },
    /** Stops scheduling, waits for rounds in flight (their samples reach the writer) and outage writes. */
    async stop() {
      running = false
      clearTimeout(timer)
      clearTimeout(reloadTimer)
      await reloading
      await Promise.all([...inFlight])
      await outageChain
    },
    /** Re-reads the targets now instead of at the next reload tick. */
    reload: () => reload(),
    stats(): SchedulerStats {
      const n = Math.min(lagCount, LAG_WINDOW)
      const sorted = Array.from(lags.subarray(0, n)).sort((a, b) => a - b)
      const q = (p: number) => (n ? Math.round(sorted[Math.min(n - 1, Math.floor(p * n))]! * 10) / 10 : null)
      const sec = Math.floor(now() / 1000)
      let windowEchoes = 0
      for (let i = 0; i < ECHO_WINDOW_S; i++) if (sec - echoSeconds[i]! < ECHO_WINDOW_S) windowEchoes += echoCounts[i]!
      return {
        targets: targets.size,
        rounds: stats.rounds,
        echoes: stats.echoes,
        lateRounds: stats.lateRounds,
        missedRounds: stats.missedRounds,
        inFlightRounds: limit.activeCount + limit.pendingCount,
        inFlightEchoes: pinger.inFlight(),
        echoesPerSecond: Math.round(windowEchoes / ECHO_WINDOW_S),
        lagP50Ms: q(0.5),
        lagP99Ms: q(0.99),
        lagMaxMs: n ? sorted[n - 1]! : null,
        reloads: stats.reloads,
        lastReloadError: stats.lastReloadError,
      }
    },
  }
}

export type Scheduler = ReturnType<typeof createScheduler>
