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
