import type { Queryable } from '../db/open.js'

export interface BadgeTarget {
  name: string | null
  address: string
  enabled: boolean
  badgePublic: boolean
  /** An outage is open. */
  open: boolean
}

export async function findBadgeTarget(sql: Queryable, id: number): Promise<BadgeTarget | null> {
  const [t] = await sql<BadgeTarget[]>`
    select name, address, enabled, badge_public,
           exists (select 1 from outages o where o.target_id = t.id and o.ended_at is null) as open
    from targets t where id = ${id}`
  return t ?? null
}

/** Echoes sent and received and the RTT sum over the last 24 hours (from samples_1m; nulls when none). */
export async function sumLastDay(sql: Queryable, id: number): Promise<{ sent: number | null; received: number | null; rttSum: number | null }> {
  const [a] = await sql<{ sent: number | null; received: number | null; rttSum: number | null }[]>`
    select sum(sent)::int as sent, sum(received)::int as received, sum(rtt_sum)::float8 as rtt_sum
    from samples_1m where target_id = ${id} and bucket > now() - interval '24 hours'`
  return a!
}
