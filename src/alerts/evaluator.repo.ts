import { intArrayLiteral } from '../db/arrays.js'
import type { Queryable } from '../db/open.js'
import { HISTOGRAM_COLUMNS, histogramFromRow } from '../insights/histogram.js'

// What the evaluator reads each pass: the targets, each target's figures over a window from the
// 1-minute tier, and the open outages. Cheap by construction: one grouped scan of the last minutes of
// samples_1m per distinct rule window (real-time: the newest minutes come from raw samples).

export interface AlertTarget {
  id: number
  address: string
  name: string | null
  tags: string[]
  enabled: boolean
}

export async function listAlertTargets(sql: Queryable): Promise<AlertTarget[]> {
  return sql<AlertTarget[]>`select id, address, name, tags, enabled from targets order by id`
}

export interface WindowStats {
  sent: number
  received: number
  /** The summed latency histogram (h00…h55) for percentile estimates. */
  histogram: number[]
}

/**
 * Each target's echoes over the minutes that begin in [start, end]: sent, received and the summed
 * histogram. Targets without a row in the window are absent.
 */
export async function windowStats(sql: Queryable, targetIds: readonly number[], start: Date, end: Date): Promise<Map<number, WindowStats>> {
  const out = new Map<number, WindowStats>()
  if (targetIds.length === 0) return out
  const sums = HISTOGRAM_COLUMNS.map((c) => sql`, sum(${sql(c)})::float8 as ${sql(c)}`)
  const rows = await sql<(Record<string, unknown> & { targetId: number; sent: number; received: number })[]>`
    select target_id, sum(sent)::float8 as sent, sum(received)::float8 as received ${sums}
    from samples_1m
    where bucket >= ${start} and bucket <= ${end} and target_id = any (${intArrayLiteral(targetIds)}::int[])
    group by target_id`
  for (const r of rows) out.set(r.targetId, { sent: r.sent, received: r.received, histogram: histogramFromRow(r) })
  return out
}

/** The start of every open outage, by target. */
export async function openOutageStarts(sql: Queryable): Promise<Map<number, Date>> {
  const rows = await sql<{ targetId: number; startedAt: Date }[]>`select target_id, started_at from outages where ended_at is null`
  return new Map(rows.map((r) => [r.targetId, r.startedAt]))
}

/** Path changes (traceroute runs whose path differs from the run before) per target in (start, end]. */
export async function pathChangeCounts(sql: Queryable, targetIds: readonly number[], start: Date, end: Date): Promise<Map<number, number>> {
  if (targetIds.length === 0) return new Map()
  const rows = await sql<{ targetId: number; n: number }[]>`
    select target_id, count(*)::int as n from events
    where type = 'path_change' and created_at > ${start} and created_at <= ${end} and target_id = any (${intArrayLiteral(targetIds)}::int[])
    group by target_id`
  return new Map(rows.map((r) => [r.targetId, r.n]))
}

/** Whether a probe holds the target's lease at `at`, and when its last lease ran out (null: never leased). */
export interface ProbeCover {
  held: boolean
  lastExpiry: Date | null
}

/**
 * The probe cover of each target: a live probe renews its leases every heartbeat, so a lease that runs
 * past `at` means someone probes the target; one that ran out means its probe stopped (killed, hung,
 * cut off from the database) and no other of its site took the target over.
 */
export async function probeCover(sql: Queryable, targetIds: readonly number[], at: Date): Promise<Map<number, ProbeCover>> {
  if (targetIds.length === 0) return new Map()
  const rows = await sql<{ targetId: number; held: boolean; lastExpiry: Date | null }[]>`
    select t.id as target_id, coalesce(bool_or(l.expires_at > ${at}), false) as held, max(l.expires_at) as last_expiry
    from targets t left join probe_leases l on l.target_id = t.id
    where t.id = any (${intArrayLiteral(targetIds)}::int[])
    group by t.id`
  return new Map(rows.map((r) => [r.targetId, { held: r.held, lastExpiry: r.lastExpiry }]))
}
