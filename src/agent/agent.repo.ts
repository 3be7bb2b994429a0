import type { Queryable } from '../db/open.js'

// The few statements the /probe/* routes need beyond probes.repo.ts (leases, registration, heartbeat)
// and the sample writer: which probe row an agent may speak for, which leases it holds, its targets,
// and the idempotent batch ledger (sql/migrations/00012_probe_tokens.sql).

/** How long a batch id is remembered: a batch retried within this span is recognised. */
export const BATCH_MEMORY = '7 days'

/** Whether `id` is the probe row of this tenure, name and site: an agent speaks for its own row only. */
export async function isAgentRow(sql: Queryable, p: { id: number; startedAt: string; name: string; site: string }): Promise<boolean> {
  const rows = await sql`
    select 1 from probes where id = ${p.id} and started_at::text = ${p.startedAt} and name = ${p.name} and site = ${p.site}`
  return rows.length > 0
}

/** The probe row `id`'s name when it belongs to `site` (for POST /probe/leave), or null. */
export async function agentRowName(sql: Queryable, p: { id: number; startedAt: string; site: string }): Promise<string | null> {
  const [row] = await sql<{ name: string }[]>`
    select name from probes where id = ${p.id} and started_at::text = ${p.startedAt} and site = ${p.site} and stopped_at is null`
  return row?.name ?? null
}

/** The valid (unexpired) leases of a probe in its site. */
export async function validLeases(sql: Queryable, p: { id: number; site: string }): Promise<number[]> {
  const rows = await sql<{ targetId: number }[]>`
    select target_id from probe_leases where probe_id = ${p.id} and site = ${p.site} and expires_at > now() order by target_id`
  return rows.map((r) => r.targetId)
}

export interface AgentTargetRow {
  id: number
  address: string
  intervalS: number
  packets: number
  timeoutMs: number
  /** Lost rounds of the target's open outage seen from the site, or null. */
  openLostRounds: number | null
}

/** What an agent needs to probe these targets, with their open outage in its site. */
export async function agentTargets(sql: Queryable, ids: number[], site: string): Promise<AgentTargetRow[]> {
  if (ids.length === 0) return []
  return sql<AgentTargetRow[]>`
    select t.id, t.address, t.interval_s, t.packets, t.timeout_ms,
      (select o.lost_rounds from outages o where o.target_id = t.id and o.site = ${site} and o.ended_at is null) as open_lost_rounds
    from targets t where t.id = any(${ids}::int[]) order by t.id`
}

/** Which of these target ids exist. */
export async function existingTargets(sql: Queryable, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set()
  const rows = await sql<{ id: number }[]>`select id from targets where id = any(${ids}::int[])`
  return new Set(rows.map((r) => r.id))
}

/**
 * Records a batch id (with its row count); false when it was recorded before (a retry: apply nothing).
 * Batch ids older than BATCH_MEMORY are forgotten on the way (an index range scan, usually empty).
 */
export async function recordBatch(tx: Queryable, b: { batchId: string; tokenId: number; site: string; rows: number }): Promise<boolean> {
  await tx`delete from probe_batches where received_at < now() - ${BATCH_MEMORY}::interval`
  const added = await tx`
    insert into probe_batches (batch_id, token_id, site, rows, stored)
    values (${b.batchId}, ${b.tokenId}, ${b.site}, ${b.rows}, 0)
    on conflict (batch_id) do nothing
    returning batch_id`
  return added.length > 0
}

export async function setBatchStored(tx: Queryable, batchId: string, stored: number): Promise<void> {
  await tx`update probe_batches set stored = ${stored} where batch_id = ${batchId}`
}

/**
 * Lets this transaction's inserts into compressed chunks (an agent's backlog older than a day) check
 * uniqueness in as many compressed rows as needed: TimescaleDB refuses DML that decompresses more than
 * 100,000 rows by default. A no-op where the setting does not exist.
 */
export async function allowBackfill(tx: Queryable): Promise<void> {
  await tx`
    select set_config(name, '0', true) from pg_settings
    where name = 'timescaledb.max_tuples_decompressed_per_dml_transaction'`
}
