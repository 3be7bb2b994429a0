import { POLICY_RELATIONS } from '../db/maintenance/policies.js'
import { intArrayLiteral, textArrayLiteral } from '../db/arrays.js'
import type { Queryable, Sql } from '../db/open.js'
import { deleteTargetData } from '../targets/target-data.repo.js'
import { SEED_NOTE, SEED_TAG } from './generator.js'

// The seed's own queries: its targets (always disabled and tagged SEED_TAG), the history check that
// refuses a seed, and the retention jobs it pauses.

/** Targets a reset may delete: seeded ones, and only while disabled. */
export async function listSeededTargetIds(sql: Queryable): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`select id from targets where ${SEED_TAG} = any (tags) and not enabled`
  return rows.map((r) => r.id)
}

/** Deletes disabled targets with their raw and aggregated rows (compressed ones too, at any size). */
export async function deleteDisabledTargets(sql: Sql, ids: number[]): Promise<void> {
  if (ids.length === 0) return
  await deleteTargetData(sql, ids, async (tx) => {
    await tx`delete from targets where id = any (${intArrayLiteral(ids)}::int[]) and not enabled`
  })
}

export interface AddressOwner {
  id: number
  address: string
  enabled: boolean
  tags: string[]
}

export async function findTargetsByAddress(sql: Queryable, addresses: string[]): Promise<AddressOwner[]> {
  return sql<AddressOwner[]>`
    select id, address, enabled, tags from targets where address = any (${textArrayLiteral(addresses)}::text[])`
}

/** The address of one of these targets that already has 1-hour history, or null. */
export async function findTargetWithHistory(sql: Queryable, ids: number[]): Promise<string | null> {
  const [row] = await sql<{ address: string }[]>`
    select t.address from targets t
    where t.id = any (${intArrayLiteral(ids)}::int[]) and exists (select 1 from samples_1h h where h.target_id = t.id)
    limit 1`
  return row?.address ?? null
}

interface SeedSchedule {
  intervalS: number
  packets: number
}

/** Re-times seeded targets that are reused (disabled ones only). */
export async function retimeDisabledTargets(sql: Queryable, ids: number[], s: SeedSchedule): Promise<void> {
  await sql`update targets set interval_s = ${s.intervalS}, packets = ${s.packets}
            where id = any (${intArrayLiteral(ids)}::int[]) and not enabled`
}

/** Inserts disabled, tagged targets; an address taken meanwhile is skipped (missing from the result). */
export async function insertSeedTargets(
  sql: Queryable,
  targets: { address: string; name: string }[],
  s: SeedSchedule & { createdAt: Date },
): Promise<{ id: number; address: string }[]> {
  return sql<{ id: number; address: string }[]>`
    insert into targets (address, name, tags, interval_s, packets, enabled, notes, created_at)
    select a, n, array[${SEED_TAG}]::text[], ${s.intervalS}, ${s.packets}, false, ${SEED_NOTE}, ${s.createdAt}
    from unnest(${textArrayLiteral(targets.map((t) => t.address))}::text[], ${textArrayLiteral(targets.map((t) => t.name))}::text[]) as u (a, n)
    on conflict (address) do nothing
    returning id, address`
}

/**
 * The range of 1-hour buckets since `from` of targets other than `excludeIds` whose raw rows are gone,
 * or null when there are none.
 */
export async function findAggregatesWithoutRawRows(
  sql: Queryable,
  q: { excludeIds: number[]; from: Date; end: Date },
): Promise<{ first: Date; last: Date } | null> {
  const [r] = await sql<{ first: Date | null; last: Date | null }[]>`
    select min(bucket) as first, max(bucket) as last from samples_1h
    where bucket >= ${q.from}
      -- hours that end before the first raw row: their raw rows are gone (retention drops whole days).
      -- An hour holding the first raw row is not: a target that started probing at 10:37 has a 10:00
      -- bucket with every one of its raw rows still there.
      and bucket + interval '1 hour' <= coalesce((select min(time) from samples), ${q.end})
      and target_id <> all (${intArrayLiteral(q.excludeIds)}::int[])`
  return r?.first ? { first: r.first, last: r.last! } : null
}

/** The scheduled retention jobs of the sample tiers. */
export async function listScheduledRetentionJobIds(sql: Queryable): Promise<number[]> {
  const jobs = await sql<{ jobId: number }[]>`
    select job_id from timescaledb_information.jobs
    where proc_name = 'policy_retention' and scheduled and hypertable_name in ${sql(POLICY_RELATIONS)}`
  return jobs.map((j) => j.jobId)
}

export async function setJobScheduled(sql: Queryable, id: number, scheduled: boolean): Promise<void> {
  await sql`select alter_job(${id}, scheduled => ${scheduled}::boolean)`
}
