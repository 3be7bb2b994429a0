import type { Sql } from '../db/open.js'

export interface ProbeTarget {
  id: number
  address: string
  intervalS: number
  packets: number
  timeoutMs: number
  enabled: boolean
}

/** Everything the scheduler needs of every target. */
export async function listProbeTargets(sql: Sql): Promise<ProbeTarget[]> {
  return sql<ProbeTarget[]>`
    select id, address, interval_s, packets, timeout_ms, enabled from targets order by id`
}

/**
 * Changes whenever any process adds, changes or deletes a target (updated_at is maintained by a
 * trigger; the id sum catches a delete and an insert in the same second), so the scheduler re-reads
 * the table only when something changed.
 */
export async function targetsFingerprint(sql: Sql): Promise<string> {
  const [r] = await sql<{ n: number; m: string; s: string }[]>`
    select count(*)::int as n, coalesce(max(updated_at), 'epoch')::text as m, coalesce(sum(id), 0)::text as s
    from targets`
  return `${r!.n}|${r!.m}|${r!.s}`
}

export interface TargetRow {
  id: number
  address: string
  name: string | null
  tags: string[]
  intervalS: number
  packets: number
  timeoutMs: number
  enabled: boolean
  url: string | null
  notes: string | null
  badgePublic: boolean
  createdAt: Date
  updatedAt: Date
}

export async function findTarget(sql: Sql, id: number): Promise<TargetRow | null> {
  const [t] = await sql<TargetRow[]>`
    select id, address, name, tags, interval_s, packets, timeout_ms, enabled, url, notes, badge_public, created_at, updated_at
    from targets where id = ${id}`
  return t ?? null
}
