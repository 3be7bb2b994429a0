import type { Queryable } from '../db/open.js'

export interface SampleRow {
  time: Date
  seq: number
  rttUs: number | null
  ttl: number | null
  status: number
}

/** The newest `limit` samples of a target, returned oldest first (the predecessor's /logs order). */
export async function listNewestSamples(sql: Queryable, targetId: number, limit: number): Promise<SampleRow[]> {
  return sql<SampleRow[]>`
    select time, seq, rtt_us, ttl, status from (
      select time, seq, rtt_us, ttl, status from samples
      where target_id = ${targetId}
      order by time desc, seq desc
      limit ${limit}
    ) newest
    order by time, seq`
}
