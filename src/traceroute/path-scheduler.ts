import type { Sql } from '../db/open.js'
import { createPeriodic } from '../lib/periodic.js'
import { claimDueSchedules, recordScheduledRun } from './schedules.repo.js'
import type { TracerouteService } from './traceroute.service.js'

// Scheduled traceroutes (path history): every `pollMs` the due schedules are claimed, as many as the
// traceroute service can start without waiting (runs on demand keep their queue), and run with the
// schedule's probes per hop. A claim moves the schedule's next run forward in the database, so each run
// happens once however many `serve` processes share it. A failed run (timeout, binary missing) is kept
// on the schedule (`last_error`) and tried again at the next interval.

export interface PathSchedulerOptions {
  sql: Sql
  service: TracerouteService
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void }
  pollMs: number
  /** Seconds a scheduled run may take before it is killed. */
  timeoutS?: number
}

export function createPathScheduler(opts: PathSchedulerOptions) {
  const { sql, service, log } = opts
  const timeoutS = opts.timeoutS ?? 60
  const inFlight = new Set<Promise<void>>()
  let runs = 0
  let failures = 0

  async function runOne(s: { targetId: number; maxHops: number; queries: number }): Promise<void> {
    let error: string | null = null
    try {
      await service.run(s.targetId, { maxHops: s.maxHops, timeoutS, queries: s.queries }, 'schedule')
      runs++
    } catch (err) {
      failures++
      error = (err as Error).message
      log.warn({ targetId: s.targetId, err: error }, 'scheduled traceroute failed')
    }
    await recordScheduledRun(sql, s.targetId, error).catch((err: unknown) => log.debug({ err }, 'recording a scheduled traceroute failed'))
  }

  /** Claims and starts what is due; resolves once the claimed runs have started. */
  async function tick(): Promise<void> {
    const due = await claimDueSchedules(sql, service.freeSlots())
    for (const s of due) {
      const p = runOne(s).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
  }

  const loop = createPeriodic(tick, opts.pollMs, (err) => log.warn({ err: err.message }, 'claiming scheduled traceroutes failed'))

  return {
    tick,
    start: () => loop.start(),
    /** Stops claiming; the runs in flight end (the service's close kills them) and are awaited. */
    async stop(): Promise<void> {
      await loop.stop()
      await Promise.allSettled([...inFlight])
    },
    stats: () => ({ runs, failures, inFlight: inFlight.size }),
  }
}
