import type { Queryable } from '../db/open.js'

/** Echoes sent and received and the RTT sum over the last 24 hours (from samples_1m; nulls when none). */
export async function sumLastDay(sql: Queryable, id: number): Promise<{ sent: number | null; received: number | null; rttSum: number | null }> {
  const [a] = await sql<{ sent: number | null; received: number | null; rttSum: number | null }[]>`
    select sum(sent)::int as sent, sum(received)::int as received, sum(rtt_sum)::float8 as rtt_sum
    from samples_1m where target_id = ${id} and bucket > now() - interval '24 hours'`
  return a!
}
