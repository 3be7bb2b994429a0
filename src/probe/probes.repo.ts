import type { Queryable, Sql } from '../db/open.js'
import { LEASE_HEARTBEATS } from './lease-plan.js'

// The probes table and the lease rows (sql/migrations/00006_probes.sql). Every statement is short and
// compares times on the database's clock only. Claims lock the target rows they pick `for no key
// update skip locked`, so probes claiming at once on a server take disjoint targets without waiting (the
// embedded engine runs one transaction at a time anyway); the conditional upsert is what guarantees a
// live lease is never taken.

export interface ProbeIdentity {
  name: string
  site: string
  version: string
  hostname: string
  pid: number
  heartbeatMs: number
  capacity: number | null
}

/** A registered probe: its row, and the start time that tells this process's tenure from a later one's. */
export interface ProbeRegistration {
  id: number
  /**
   * started_at as the database prints it, compared as text: a JS Date drops its microseconds, and so
   * does postgres.js when it serializes a timestamptz parameter.
   */
  startedAt: string
}

export interface ProbeRef {
  id: number
  site: string
}

/** A probe row with no heartbeat for this long (or stopped as long ago) is deleted, its leases with it. */
const PRUNE_AFTER = '1 hour'

/** The leases the probe holds right now, for probes.assigned. */
function heldCount(sql: Queryable, id: number) {
  return sql`(select count(*)::int from probe_leases where probe_id = ${id} and expires_at > now())`
}

/**
 * Registers (or takes back by name) a probe row. null when the name belongs to a probe that is still
 * live: two processes never share a row.
 */
export async function registerProbe(sql: Sql, p: ProbeIdentity): Promise<ProbeRegistration | null> {
  return sql.begin(async (tx) => {
    await tx`delete from probes where coalesce(stopped_at, heartbeat_at) < now() - ${PRUNE_AFTER}::interval`
    const [row] = await tx<ProbeRegistration[]>`
      insert into probes (name, site, version, hostname, pid, heartbeat_ms, capacity)
      values (${p.name}, ${p.site}, ${p.version}, ${p.hostname}, ${p.pid}, ${p.heartbeatMs}, ${p.capacity})
      on conflict (name) do update set
        site = excluded.site, version = excluded.version, hostname = excluded.hostname, pid = excluded.pid,
        heartbeat_ms = excluded.heartbeat_ms, capacity = excluded.capacity, started_at = now(),
        heartbeat_at = now(), stopped_at = null, assigned = 0, last_error = null
      where probes.stopped_at is not null
         or probes.heartbeat_at <= now() - probes.heartbeat_ms * ${LEASE_HEARTBEATS} * interval '1 millisecond'
      returning id, started_at::text as started_at`
    return row ?? null
  })
}

/** Who holds a probe name, for the message when it is taken. */
export async function findProbeHolder(sql: Queryable, name: string): Promise<{ hostname: string; pid: number; heartbeatAgeS: number } | null> {
  const [row] = await sql<{ hostname: string; pid: number; heartbeatAgeS: number }[]>`
    select hostname, pid, extract(epoch from now() - heartbeat_at)::float8 as heartbeat_age_s
    from probes where name = ${name}`
  return row ?? null
}

/**
 * One heartbeat, in one transaction: the probe's row (if it is still this tenure's), and the leases in
 * `held` renewed for 3 heartbeats, provided they are still this probe's: one that ran out while the
 * database was unreachable is renewed if nobody claimed it meanwhile. Returns the renewed target ids
 * (null: the row is not ours any more).
 */
export async function heartbeat(
  sql: Sql,
  p: ProbeRef & { startedAt: string; held: number[]; ttlMs: number; lastError: string | null },
): Promise<number[] | null> {
  return sql.begin(async (tx) => {
    const [me] = await tx`
      update probes set heartbeat_at = now(), last_error = ${p.lastError}
      where id = ${p.id} and started_at::text = ${p.startedAt} and stopped_at is null
      returning id`
    if (!me) return null
    const renewed = await tx<{ targetId: number }[]>`
      update probe_leases l set expires_at = now() + ${p.ttlMs} * interval '1 millisecond'
      where l.probe_id = ${p.id} and l.site = ${p.site} and l.target_id = any(${p.held}::int[])
      returning l.target_id`
    await tx`update probes set assigned = ${heldCount(tx, p.id)} where id = ${p.id}`
    return renewed.map((r) => r.targetId)
  })
}

/** A target (alias t) the probes of `site` probe: enabled, and listing the site (or every site). */
const probedHere = (sql: Queryable, site: string) => sql`t.enabled and (t.sites is null or ${site} = any (t.sites))`

export interface SiteView {
  /** Probes of the site that heartbeat within their lease span (this one included). */
  live: number
  enabled: number
  /** Enabled targets with no valid lease in the site. */
  free: number
  /** Until the earliest expiry of another probe's lease in the site, ms; null without one. */
  nextExpiryMs: number | null
  /** Targets this probe holds a lease on that are paused now, or no longer probed from its site. */
  paused: number[]
}

/** What a probe needs to decide whether to claim or give back (one round trip). */
export async function viewSite(sql: Queryable, p: ProbeRef): Promise<SiteView> {
  const [row] = await sql<SiteView[]>`
    select
      (select count(*)::int from probes
        where site = ${p.site} and stopped_at is null
          and heartbeat_at > now() - heartbeat_ms * ${LEASE_HEARTBEATS} * interval '1 millisecond') as live,
      (select count(*)::int from targets t where ${probedHere(sql, p.site)}) as enabled,
      (select count(*)::int from targets t where ${probedHere(sql, p.site)} and not exists (
        select 1 from probe_leases l where l.target_id = t.id and l.site = ${p.site} and l.expires_at > now())) as free,
      (select (extract(epoch from min(expires_at) - now()) * 1000)::float8 from probe_leases
        where site = ${p.site} and probe_id <> ${p.id} and expires_at > now()) as next_expiry_ms,
      (select coalesce(array_agg(l.target_id), '{}') from probe_leases l join targets t on t.id = l.target_id
        where l.probe_id = ${p.id} and l.site = ${p.site} and not (${probedHere(sql, p.site)})) as paused`
  return row!
}

/**
 * Deletes this probe's leases on paused targets: resumed, such a target is new to the fleet and probed
 * at once by whoever claims it, rather than waiting for a lease nobody renews to expire.
 */
export async function dropLeases(sql: Queryable, p: ProbeRef & { targetIds: number[] }): Promise<void> {
  await sql`delete from probe_leases where probe_id = ${p.id} and site = ${p.site} and target_id = any(${p.targetIds}::int[])`
}

export interface Claimed {
  targetId: number
  /** How long the lease had been free (released or expired), ms; null: nobody held it before. */
  freeForMs: number | null
}

/**
 * Claims up to `n` enabled targets with no valid lease in the site, lowest ids first, in one statement
 * (probes.assigned included: the snapshot's count of valid leases does not see the ones won).
 * free_for_ms is read off clock_timestamp() as the answer is built, so the caller's "no earlier than
 * the answer arrived" dating is off by the answer's way back only.
 */
export async function claimLeases(sql: Queryable, p: ProbeRef & { n: number; ttlMs: number }): Promise<Claimed[]> {
  if (p.n <= 0) return []
  return sql<Claimed[]>`
    with pick as (
      select t.id, l.expires_at as free_since
      from targets t left join probe_leases l on l.target_id = t.id and l.site = ${p.site}
      where ${probedHere(sql, p.site)} and (l.expires_at is null or l.expires_at <= now())
      order by t.id
      limit ${p.n}
      for no key update of t skip locked
    ), won as (
      insert into probe_leases as l (target_id, site, probe_id, expires_at)
      select id, ${p.site}, ${p.id}, now() + ${p.ttlMs} * interval '1 millisecond' from pick
      on conflict (target_id, site) do update
        set probe_id = excluded.probe_id, expires_at = excluded.expires_at, acquired_at = now()
        where l.expires_at <= now()
      returning l.target_id
    ), tally as (
      update probes set assigned = ${heldCount(sql, p.id)} + (select count(*)::int from won) where id = ${p.id}
    )
    select w.target_id, (extract(epoch from clock_timestamp() - p.free_since) * 1000)::float8 as free_for_ms
    from won w join pick p on p.id = w.target_id`
}

/**
 * Gives leases back, dated when their holder stopped probing them (`idleMs` before the request was sent,
 * by its own clock; the database's now() is no earlier than the send, so the date is never too early):
 * the next holder resumes from there.
 */
export async function releaseLeases(sql: Queryable, p: ProbeRef & { targetIds: number[]; idleMs: number }): Promise<void> {
  if (p.targetIds.length === 0) return
  await sql`
    with gone as (
      update probe_leases set expires_at = now() - ${p.idleMs} * interval '1 millisecond'
      where probe_id = ${p.id} and site = ${p.site} and target_id = any(${p.targetIds}::int[]) and expires_at > now()
      returning target_id
    )
    update probes set assigned = ${heldCount(sql, p.id)} - (select count(*)::int from gone) where id = ${p.id}`
}

/** A clean stop: every lease released (dated as in releaseLeases) and the probe marked stopped, at once. */
export async function leaveFleet(sql: Sql, p: { id: number; startedAt: string; idleMs: number }): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      update probe_leases set expires_at = now() - ${p.idleMs} * interval '1 millisecond'
      where probe_id = ${p.id} and expires_at > now()`
    await tx`
      update probes set stopped_at = now(), assigned = 0
      where id = ${p.id} and started_at::text = ${p.startedAt}`
  })
}

export interface ProbeRow {
  name: string
  site: string
  version: string
  hostname: string
  pid: number
  startedAt: Date
  heartbeatAgeS: number
  assigned: number
  capacity: number | null
  lastError: string | null
  /** live (heartbeats), stopped (clean stop) or lost (no heartbeat for 3 heartbeats). */
  state: 'live' | 'stopped' | 'lost'
}

/** Every probe row (live, and gone within the last hour), for /health and /metrics. */
export async function listProbes(sql: Queryable): Promise<ProbeRow[]> {
  return sql<ProbeRow[]>`
    select name, site, version, hostname, pid, started_at, assigned, capacity, last_error,
           extract(epoch from now() - heartbeat_at)::float8 as heartbeat_age_s,
           case when stopped_at is not null then 'stopped'
                when heartbeat_at > now() - heartbeat_ms * ${LEASE_HEARTBEATS} * interval '1 millisecond' then 'live'
                else 'lost' end as state
    from probes order by site, name`
}
