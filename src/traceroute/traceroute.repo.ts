import type { Queryable, Tx } from '../db/open.js'
import type { TracerouteHop } from './parse.js'

// Hops are stored with snake_case keys (as the API shows them); postgres.camel turns them into camelCase
// on the way back, like column names.

export interface TracerouteRow {
  id: number
  targetId: number
  targetIp: string
  startedAt: Date
  finishedAt: Date | null
  durationMs: number | null
  maxHops: number
  hops: TracerouteHop[]
  hopCount: number
  reached: boolean
  pathHash: string | null
  /** The path hash differs from the target's previous run (false for its first run). */
  pathChanged: boolean
}

export interface NewTraceroute {
  targetId: number
  startedAt: Date
  finishedAt: Date
  durationMs: number
  maxHops: number
  hops: TracerouteHop[]
  hopCount: number
  reached: boolean
  pathHash: string
  actor: string
}

const toJsonHops = (hops: TracerouteHop[]) =>
  hops.map((h) => ({ hop: h.hop, host: h.host, ip: h.ip, rtt_ms: h.rttMs, is_timeout: h.isTimeout, sent: h.sent, rtts_ms: h.rttsMs, raw: h.raw }))

/** Runs stored before per-hop probe counts were kept sent one probe per hop (-q 1). */
const withProbes = (h: TracerouteHop): TracerouteHop => ({
  ...h,
  sent: h.sent ?? 1,
  rttsMs: h.rttsMs ?? (h.rttMs === null ? [] : [h.rttMs]),
})
const withHops = <T extends { hops: TracerouteHop[] }>(r: T): T => ({ ...r, hops: r.hops.map(withProbes) })

/**
 * Locks the target's row against concurrent traceroute inserts (and deletion) until the transaction ends,
 * so "the previous run" is well defined; false when the target is gone.
 */
export async function lockTargetForTraceroute(tx: Tx, targetId: number): Promise<boolean> {
  const rows = await tx`select id from targets where id = ${targetId} for no key update`
  return rows.length > 0
}

export async function findLatestTraceroute(sql: Queryable, targetId: number): Promise<{ id: number; pathHash: string | null; hops: TracerouteHop[] } | null> {
  const [row] = await sql<{ id: string; pathHash: string | null; hops: TracerouteHop[] }[]>`
    select id, path_hash, hops from traceroutes where target_id = ${targetId} order by id desc limit 1`
  return row ? withHops({ ...row, id: Number(row.id) }) : null
}

export async function insertTraceroute(sql: Queryable, t: NewTraceroute): Promise<number> {
  const [row] = await sql<{ id: string }[]>`
    insert into traceroutes (target_id, started_at, finished_at, duration_ms, max_hops, hops, hop_count, reached, path_hash, actor)
    values (${t.targetId}, ${t.startedAt}, ${t.finishedAt}, ${t.durationMs}, ${t.maxHops}, ${sql.json(toJsonHops(t.hops))},
            ${t.hopCount}, ${t.reached}, ${t.pathHash}, ${t.actor})
    returning id`
  return Number(row!.id)
}

/**
 * A target's runs, newest first (in insertion order, which the row lock makes the order each run compared
 * itself against), each with `pathChanged` against the run before it.
 */
export async function listTraceroutes(sql: Queryable, q: { targetId: number; limit: number; ids?: number[] }): Promise<TracerouteRow[]> {
  const rows = await sql<(Omit<TracerouteRow, 'id'> & { id: string })[]>`
    select r.*, t.address as target_ip
    from (
      select id, target_id, started_at, finished_at, duration_ms, max_hops, hops, hop_count, reached, path_hash,
             coalesce(lag(path_hash) over (order by id) <> path_hash, false) as path_changed
      from traceroutes where target_id = ${q.targetId}
    ) r
    join targets t on t.id = r.target_id
    ${q.ids === undefined ? sql`` : sql`where r.id = any(${q.ids}::int8[])`}
    order by r.id desc
    limit ${q.limit}`
  return rows.map((r) => withHops({ ...r, id: Number(r.id) }))
}

/**
 * A target's runs that started in [from, to), oldest first, each with `pathChanged` against the run
 * before it (which may lie before `from`); at most `limit`, the newest ones.
 */
export async function pathHistory(sql: Queryable, q: { targetId: number; from: Date; to: Date; limit: number }): Promise<TracerouteRow[]> {
  const rows = await sql<(Omit<TracerouteRow, 'id'> & { id: string })[]>`
    select * from (
      select r.*, t.address as target_ip
      from (
        select id, target_id, started_at, finished_at, duration_ms, max_hops, hops, hop_count, reached, path_hash,
               coalesce(lag(path_hash) over (order by id) <> path_hash, false) as path_changed
        from traceroutes where target_id = ${q.targetId}
      ) r
      join targets t on t.id = r.target_id
      where r.started_at >= ${q.from} and r.started_at < ${q.to}
      order by r.id desc
      limit ${q.limit}
    ) newest
    order by id`
  return rows.map((r) => withHops({ ...r, id: Number(r.id) }))
}

/** Runs by id, of one target (others are left out). */
export async function findTraceroutes(sql: Queryable, targetId: number, ids: number[]): Promise<TracerouteRow[]> {
  return listTraceroutes(sql, { targetId, limit: ids.length, ids })
}
