import type { Queryable } from '../db/open.js'
import { AppError, notFound } from '../errors.js'
import { isoOrNull } from '../lib/format.js'
import { requireTarget } from '../targets/targets.service.js'
import { type ScheduleRow, deleteSchedule, findSchedule, upsertSchedule } from './schedules.repo.js'
import { type TracerouteRow, findTraceroutes, pathHistory } from './traceroute.repo.js'
import type { PathDiffOut, PathHistoryOut, ScheduleBody, ScheduleOut } from './traceroute.schema.js'
import { hopJson } from './traceroute.service.js'

// Path history for the API and the CLI: a target's traceroute schedule, its runs over a window as a
// hop × time table with the distinct paths seen, and the difference between two runs.

export function scheduleJson(s: ScheduleRow): ScheduleOut {
  return {
    target_id: s.targetId,
    interval_s: s.intervalS,
    max_hops: s.maxHops,
    queries: s.queries,
    next_run_at: s.nextRunAt.toISOString(),
    last_run_at: isoOrNull(s.lastRunAt),
    last_error: s.lastError,
    created_by: s.createdBy,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  }
}

/** The target's schedule, null when it has none (an answer, not an error: the dashboard asks on every target page). */
export async function getSchedule(sql: Queryable, targetId: number): Promise<ScheduleOut | null> {
  await requireTarget(sql, targetId)
  const s = await findSchedule(sql, targetId)
  return s ? scheduleJson(s) : null
}

export async function setSchedule(sql: Queryable, targetId: number, b: ScheduleBody, actor: string): Promise<ScheduleOut> {
  await requireTarget(sql, targetId)
  const row = await upsertSchedule(sql, { targetId, intervalS: b.interval_s, maxHops: b.max_hops, queries: b.queries, actor }).catch((err: unknown) => {
    // The target deleted meanwhile.
    if ((err as { code?: string }).code === '23503') throw notFound('Target')
    throw err
  })
  return scheduleJson(row)
}

export async function removeSchedule(sql: Queryable, targetId: number): Promise<void> {
  await requireTarget(sql, targetId)
  if (!(await deleteSchedule(sql, targetId))) throw new AppError(404, 'No traceroute schedule for this target')
}

const DAY_MS = 86_400_000

export async function pathHistoryJson(sql: Queryable, targetId: number, q: { from?: Date | undefined; to?: Date | undefined; limit: number }, now: Date): Promise<PathHistoryOut> {
  await requireTarget(sql, targetId)
  const to = q.to ?? now
  const from = q.from ?? new Date(to.getTime() - DAY_MS)
  if (!(from < to)) throw new AppError(422, [{ loc: ['querystring', 'from'], msg: 'must be before to' }])
  const rows = await pathHistory(sql, { targetId, from, to, limit: q.limit })
  const paths = new Map<string, PathHistoryOut['paths'][number]>()
  for (const r of rows) {
    const key = r.pathHash ?? ''
    const seen = paths.get(key)
    const at = r.startedAt.toISOString()
    if (seen) {
      seen.runs++
      seen.last_seen = at
    } else paths.set(key, { path_hash: r.pathHash, hops: r.hops.slice(0, r.hopCount).map((h) => h.ip), runs: 1, first_seen: at, last_seen: at })
  }
  return {
    target_id: targetId,
    from: from.toISOString(),
    to: to.toISOString(),
    runs: rows.map((r) => ({
      id: r.id,
      started_at: r.startedAt.toISOString(),
      reached: r.reached,
      hop_count: r.hopCount,
      path_hash: r.pathHash,
      path_changed: r.pathChanged,
      hops: r.hops.map(hopJson).map((h) => ({ hop: h.hop, ip: h.ip, sent: h.sent, loss_pct: h.loss_pct, rtt_avg_ms: h.rtt_avg_ms })),
    })),
    paths: [...paths.values()],
  }
}

export async function pathDiffJson(sql: Queryable, targetId: number, a: number, b: number): Promise<PathDiffOut> {
  await requireTarget(sql, targetId)
  const found = await findTraceroutes(sql, targetId, [a, b])
  const ra = found.find((r) => r.id === a)
  const rb = found.find((r) => r.id === b)
  if (!ra || !rb) throw new AppError(404, `Traceroute ${!ra ? a : b} not found for this target`)
  const byHop = (r: TracerouteRow) => new Map(r.hops.slice(0, r.hopCount || r.hops.length).map((h) => [h.hop, hopJson(h)]))
  const ha = byHop(ra)
  const hb = byHop(rb)
  const last = Math.max(0, ...ha.keys(), ...hb.keys())
  const sideOf = (h: ReturnType<typeof hopJson> | undefined) => ({ ip: h?.ip ?? null, loss_pct: h ? h.loss_pct : null, rtt_avg_ms: h?.rtt_avg_ms ?? null })
  const hops = Array.from({ length: last }, (_, i) => {
    const x = ha.get(i + 1)
    const y = hb.get(i + 1)
    return { hop: i + 1, a: sideOf(x), b: sideOf(y), changed: (x?.ip ?? null) !== (y?.ip ?? null) }
  })
  const head = (r: TracerouteRow) => ({ id: r.id, started_at: r.startedAt.toISOString(), path_hash: r.pathHash, reached: r.reached })
  return { a: head(ra), b: head(rb), same_path: ra.pathHash === rb.pathHash, hops }
}
