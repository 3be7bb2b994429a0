import type { Queryable } from '../db/open.js'
import { HISTOGRAM_COLUMNS, estimatePercentile, histogramFromRow } from '../insights/histogram.js'
import type { FleetSummaryOut, FleetTargetSummaryOut } from './fleet.schema.js'
import { usToMs } from '../lib/format.js'

// Last-hour figures of every target in one query over the 1-minute tier (real-time: the newest,
// not yet materialised minutes come from raw samples). Grouping sets give, in one scan, one row per
// target and sparkline bucket plus one total row per target; only the total rows carry the histogram
// (the bucket rows would multiply the answer by the bucket count for nothing).

const EPOCH = new Date(0)

interface Row extends Record<string, unknown> {
  targetId: number
  b: Date | null
  sent: number
  received: number
  rttSum: number
}


export async function fleetSummary(
  sql: Queryable,
  opts: { windowMinutes: number; bucketS: number; now?: Date },
): Promise<FleetSummaryOut> {
  const stepMs = opts.bucketS * 1000
  const end = new Date(Math.ceil((opts.now ?? new Date()).getTime() / stepMs) * stepMs)
  const start = new Date(end.getTime() - opts.windowMinutes * 60_000)
  const hist = HISTOGRAM_COLUMNS.map((c) => sql`, case when grouping(b) = 1 then sum(${sql(c)}) end::float8 as ${sql(c)}`)
  const rows = await sql<Row[]>`
    with m as (
      select target_id, time_bucket(make_interval(secs => ${opts.bucketS}), bucket, ${EPOCH}::timestamptz) as b,
        sent, received, rtt_sum, ${sql(HISTOGRAM_COLUMNS as string[])}
      from samples_1m
      where bucket >= ${start} and bucket < ${end}
    )
    select target_id, b,
      sum(sent)::float8 as sent, sum(received)::float8 as received, coalesce(sum(rtt_sum), 0)::float8 as rtt_sum
      ${hist}
    from m
    group by grouping sets ((target_id, b), (target_id))
    order by target_id, b nulls first`

  const buckets = Math.round((end.getTime() - start.getTime()) / stepMs)
  const out: FleetTargetSummaryOut[] = []
  let cur: FleetTargetSummaryOut | null = null
  for (const r of rows) {
    if (r.b === null) {
      cur = {
        target_id: r.targetId,
        sent: r.sent,
        received: r.received,
        loss_percent: r.sent > 0 ? ((r.sent - r.received) / r.sent) * 100 : null,
        avg_latency_ms: r.received > 0 ? usToMs(r.rttSum / r.received) : null,
        p95_latency_ms: null,
        spark_latency_ms: new Array<number | null>(buckets).fill(null),
        spark_loss: new Array<number | null>(buckets).fill(null),
      }
      const p95 = estimatePercentile(histogramFromRow(r), 0.95)
      cur.p95_latency_ms = usToMs(p95)
      if (cur.sent > 0) out.push(cur)
      continue
    }
    if (!cur || cur.target_id !== r.targetId) continue
    const i = Math.floor((r.b.getTime() - start.getTime()) / stepMs)
    if (i < 0 || i >= buckets || r.sent === 0) continue
    cur.spark_latency_ms[i] = r.received > 0 ? usToMs(r.rttSum / r.received) : null
    cur.spark_loss[i] = (r.sent - r.received) / r.sent
  }
  return { window_start: start.toISOString(), window_end: end.toISOString(), bucket_seconds: opts.bucketS, targets: out }
}
