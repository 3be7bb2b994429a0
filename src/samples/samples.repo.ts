import { siteFilter } from '../sites/sites.repo.js'
import type { Queryable } from '../db/open.js'

export interface SampleRow {
  time: Date
  siteId: number
  seq: number
  rttUs: number | null
  ttl: number | null
  status: number
}


/**
 * The newest `limit` samples of a target (from one site, or every site), returned oldest first (the
 * predecessor's /logs order).
 */
export async function listNewestSamples(sql: Queryable, targetId: number, limit: number, siteId: number | null = null): Promise<SampleRow[]> {
  return sql<SampleRow[]>`
    select time, site_id, seq, rtt_us, ttl, status from (
      select time, site_id, seq, rtt_us, ttl, status from samples
      where target_id = ${targetId} ${siteFilter(sql, siteId)}
      order by time desc, seq desc
      limit ${limit}
    ) newest
    order by time, site_id, seq`
}

export interface ExportRow {
  /** Millisecond precision (a JS Date); the sub-millisecond rest is in subMsUs. */
  time: Date
  subMsUs: number
  siteId: number
  seq: number
  rttUs: number | null
  ttl: number | null
}

/**
 * Up to `limit` samples of a target with from ≤ time < to, in (time, seq) order: one page of the CSV
 * export. `from` is a timestamptz literal, sent as text so that microseconds survive (postgres.js
 * would parse a timestamptz parameter into a JS Date, which keeps milliseconds).
 * The inner query orders by time alone, which the (target_id, time desc, seq) index and TimescaleDB's
 * ordered chunk append serve with an early stop, compressed chunks included; ordering by (time, seq)
 * there sorted every row up to `to` on each page (measured: 1.2 s a page over 20 days).
 */
export async function listSamplesPage(
  sql: Queryable,
  targetId: number,
  page: { from: string; to: Date; limit: number; siteId: number | null },
): Promise<ExportRow[]> {
  return sql<ExportRow[]>`
    select time, date_part('microseconds', time)::int % 1000 as sub_ms_us, site_id, seq, rtt_us, ttl from (
      select time, site_id, seq, rtt_us, ttl from samples
      where target_id = ${targetId} ${siteFilter(sql, page.siteId)} and time >= ${page.from}::text::timestamptz and time < ${page.to}
      order by time
      limit ${page.limit}
    ) page
    order by time, site_id, seq`
}
