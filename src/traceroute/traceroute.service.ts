import pLimit from 'p-limit'
import type { Sql } from '../db/open.js'
import { AppError, notFound } from '../errors.js'
import { isoOrNull } from '../lib/format.js'
import type { TracerouteHopOut, TracerouteOut } from './traceroute.schema.js'
import { recordEvent } from '../events/events.repo.js'
import { requireTarget } from '../targets/targets.service.js'
import { type TracerouteHop, parseTraceroute, summarisePath } from './parse.js'
import { TracerouteError, type TracerouteRunner } from './runner.js'
import {
  type TracerouteRow,
  findLatestTraceroute,
  insertTraceroute,
  listTraceroutes,
  lockTargetForTraceroute,
} from './traceroute.repo.js'

// On-demand traceroutes, shared by the API and the CLI: run (capped), parse, store, and record a
// path_change event when the path differs from the target's previous run.
//
// Concurrency: at most `concurrency` runs at once. A request beyond that waits in a FIFO queue of at most
// `concurrency` entries, for no longer than its own timeout; a full queue or a wait that runs out gives
// 503 "Too many traceroutes running". Once it runs, it gets its whole timeout. So a request is answered
// within 2 x timeout (+ the kill grace), and no more than 2 x concurrency requests are ever held.

export interface TracerouteServiceDeps {
  sql: Sql
  runner: TracerouteRunner
  concurrency: number
  /** Queue length beyond the running ones; `concurrency` by default. */
  maxQueued?: number
  /** Where failed runs are reported (the app's logger; a pino logger fits). */
  log: { warn(obj: object, msg: string): void }
}

export interface TracerouteService {
  run(targetId: number, opts: RunOptions, actor: string): Promise<TracerouteRow>
  /** Runs that could start now without waiting (scheduled runs take only these). */
  freeSlots(): number
  history(targetId: number, limit: number): Promise<TracerouteRow[]>
  /** Kills running traceroutes and turns queued ones away (server shutdown). */
  close(): void
}

export interface RunOptions {
  maxHops: number
  timeoutS: number
  /** Probes per hop (default 1). */
  queries?: number
}

const busy = () => new AppError(503, 'Too many traceroutes running')

export function createTracerouteService(deps: TracerouteServiceDeps): TracerouteService {
  const { sql, runner, log } = deps
  const limit = pLimit(deps.concurrency)
  const maxQueued = deps.maxQueued ?? deps.concurrency
  const shutdown = new AbortController()
  const waiting = new Set<(error: AppError) => void>()

  /** Runs `task` when a slot is free, or fails with 503 if none frees up within `waitMs`. */
  function whenSlotFree<T>(waitMs: number, task: () => Promise<T>): Promise<T> {
    if (limit.activeCount >= deps.concurrency && waiting.size >= maxQueued) return Promise.reject(busy())
    return new Promise<T>((resolve, reject) => {
      let gaveUp = false
      const giveUp = (error: AppError) => {
        gaveUp = true
        clearTimeout(timer)
        waiting.delete(giveUp)
        reject(error)
      }
      const timer = setTimeout(() => giveUp(busy()), waitMs)
      waiting.add(giveUp)
      void limit(async () => {
        if (gaveUp) return // its slot passes straight on to the next in line
        clearTimeout(timer)
        waiting.delete(giveUp)
        try {
          resolve(await task())
        } catch (error) {
          reject(error)
        }
      })
    })
  }

  async function run(targetId: number, opts: RunOptions, actor: string): Promise<TracerouteRow> {
    const target = await requireTarget(sql, targetId)
    const timeoutMs = Math.round(opts.timeoutS * 1000)
    const result = await whenSlotFree(timeoutMs, () =>
      runner.run({ address: target.address, maxHops: opts.maxHops, timeoutMs, queries: opts.queries ?? 1, signal: shutdown.signal }),
    ).catch((error: unknown) => {
      if (!(error instanceof TracerouteError)) throw error
      log.warn({ targetId, address: target.address, reason: error.reason, err: error.message }, 'traceroute failed')
      throw new AppError(503, error.message)
    })

    const parsed = parseTraceroute(result.stdout)
    const summary = summarisePath(parsed, target.address)
    const id = await sql.begin(async (tx) => {
      // The target may have been deleted while traceroute ran.
      if (!(await lockTargetForTraceroute(tx, targetId))) throw notFound('Target')
      const previous = await findLatestTraceroute(tx, targetId)
      const id = await insertTraceroute(tx, {
        targetId,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        durationMs: result.durationMs,
        maxHops: opts.maxHops,
        hops: parsed.hops,
        hopCount: summary.hopCount,
        reached: summary.reached,
        pathHash: summary.pathHash,
        actor,
      })
      if (previous?.pathHash && previous.pathHash !== summary.pathHash) {
        const oldPath = previous.hops.map((h) => h.ip)
        const newPath = parsed.hops.map((h) => h.ip)
        await recordEvent(tx, {
          targetId,
          type: 'path_change',
          actor,
          message: `Path to ${target.address} changed: ${describe(oldPath)} → ${describe(newPath)}`,
          data: {
            traceroute_id: id,
            previous_traceroute_id: previous.id,
            old_hops: oldPath,
            new_hops: newPath,
            old_path_hash: previous.pathHash,
            new_path_hash: summary.pathHash,
          },
        })
      }
      return id
    })
    const [row] = await listTraceroutes(sql, { targetId, limit: 1, ids: [id] })
    return row!
  }

  return {
    run,
    freeSlots: () => Math.max(0, deps.concurrency - limit.activeCount - limit.pendingCount),
    async history(targetId, n) {
      await requireTarget(sql, targetId)
      return listTraceroutes(sql, { targetId, limit: n })
    },
    close() {
      shutdown.abort()
      for (const giveUp of [...waiting]) giveUp(new AppError(503, 'Traceroute cancelled: server shutting down'))
    },
  }
}

function describe(path: (string | null)[]): string {
  return `${path.length} hop${path.length === 1 ? '' : 's'} (${path.map((ip) => ip ?? '*').join(', ')})`
}

/** A stored run as the API and the CLI's --json show it. */
export function tracerouteJson(r: TracerouteRow): TracerouteOut {
  return {
    id: r.id,
    target_id: r.targetId,
    target_ip: r.targetIp,
    started_at: r.startedAt.toISOString(),
    finished_at: isoOrNull(r.finishedAt),
    duration_ms: r.durationMs,
    max_hops: r.maxHops,
    hop_count: r.hopCount,
    reached: r.reached,
    path_changed: r.pathChanged,
    hops: r.hops.map(hopJson),
  }
}

export function hopJson(h: TracerouteHop): TracerouteHopOut {
  const answered = h.rttsMs.length
  return {
    hop: h.hop,
    host: h.host,
    ip: h.ip,
    rtt_ms: h.rttMs,
    is_timeout: h.isTimeout,
    sent: h.sent,
    rtts_ms: h.rttsMs,
    loss_pct: h.sent > 0 ? Math.round(((h.sent - answered) / h.sent) * 10_000) / 100 : 100,
    rtt_avg_ms: answered ? Math.round((h.rttsMs.reduce((a, b) => a + b, 0) / answered) * 1000) / 1000 : null,
    raw: h.raw,
  }
}
