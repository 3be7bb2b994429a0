import type { Queryable } from '../db/open.js'
import { CHANNEL_COLUMNS, type ChannelRow, withConfig } from './channels.repo.js'
import type { NotificationItem } from './notify.js'

// The notification outbox (sql/migrations/00007_alerts.sql): written by the evaluator inside a state
// change's transaction, read and updated by the sender in short statements (never a transaction held
// across a delivery: on the embedded engine that would hold its one backend for everyone).

export interface NewNotification {
  channelId: number
  incidentId: number
  transition: 'fire' | 'resolve'
  dedupeKey: string
  payload: NotificationItem
  createdAt: Date
  nextAttemptAt: Date
}

/** Queues a notification; false when its dedupe key was queued before (nothing is inserted twice). */
export async function enqueueNotification(sql: Queryable, n: NewNotification): Promise<boolean> {
  const res = await sql`
    insert into notification_outbox (channel_id, incident_id, transition, dedupe_key, payload, created_at, next_attempt_at)
    values (${n.channelId}, ${n.incidentId}, ${n.transition}, ${n.dedupeKey}, ${sql.json(n.payload as never)},
      ${n.createdAt}, ${n.nextAttemptAt})
    on conflict (dedupe_key) do nothing`
  return res.count > 0
}

export interface QueueHead {
  channelId: number
  nextAttemptAt: Date
}

/** The oldest undelivered notification of every channel: the one that decides when the channel is due. */
export async function queueHeads(sql: Queryable): Promise<QueueHead[]> {
  return sql<QueueHead[]>`
    select distinct on (channel_id) channel_id, next_attempt_at
    from notification_outbox
    where delivered_at is null and failed_at is null
    order by channel_id, id`
}

export interface OutboxRow {
  id: string // bigserial: int8 comes back as text
  dedupeKey: string
  payload: NotificationItem
  attempts: number
  createdAt: Date
}

/**
 * The oldest `limit` undelivered notifications of a channel, in queue order. The payload is read as
 * text: the driver's camelCase transform would otherwise rename the keys inside the JSON too.
 */
export async function queuedRows(sql: Queryable, channelId: number, limit: number): Promise<OutboxRow[]> {
  const rows = await sql<(Omit<OutboxRow, 'payload'> & { payload: string })[]>`
    select id, dedupe_key, payload::text as payload, attempts, created_at from notification_outbox
    where channel_id = ${channelId} and delivered_at is null and failed_at is null
    order by id
    limit ${limit}`
  return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as NotificationItem }))
}

/**
 * Takes the channel's queue for `leaseMs` (the database's clock) unless another sender holds it;
 * returns the channel, or null. A holder may renew its own lease.
 */
export async function claimChannel(sql: Queryable, channelId: number, owner: string, leaseMs: number): Promise<ChannelRow | null> {
  const [row] = await sql<ChannelRow[]>`
    update alert_channels c set lease_owner = ${owner}, lease_until = clock_timestamp() + make_interval(secs => ${leaseMs / 1000})
    where c.id = ${channelId} and (c.lease_until is null or c.lease_until < clock_timestamp() or c.lease_owner = ${owner})
    returning ${CHANNEL_COLUMNS(sql)}`
  return row ? withConfig(row) : null
}

export async function releaseChannel(sql: Queryable, channelId: number, owner: string): Promise<void> {
  await sql`update alert_channels set lease_owner = null, lease_until = null where id = ${channelId} and lease_owner = ${owner}`
}

export async function markDelivered(sql: Queryable, ids: string[], at: Date): Promise<void> {
  await sql`
    update notification_outbox set delivered_at = ${at}, attempts = attempts + 1, last_error = null
    where id in ${sql(ids)} and delivered_at is null`
}

/** Records a failed attempt: retried at `nextAttemptAt`, or given up when `failedAt` is set. */
export async function recordFailure(sql: Queryable, ids: string[], f: { error: string; nextAttemptAt: Date; failedAt: Date | null }): Promise<void> {
  await sql`
    update notification_outbox set attempts = attempts + 1, last_error = ${f.error.slice(0, 1000)},
      next_attempt_at = ${f.nextAttemptAt}, failed_at = ${f.failedAt}
    where id in ${sql(ids)} and delivered_at is null`
}

/** Gives up every queued notification of a channel (it was disabled: its queue is dropped, not held). */
export async function dropChannelQueue(sql: Queryable, channelId: number, reason: string, at: Date): Promise<number> {
  const res = await sql`
    update notification_outbox set failed_at = ${at}, last_error = ${reason}
    where channel_id = ${channelId} and delivered_at is null and failed_at is null`
  return res.count
}

/** Deletes delivered and given-up notifications older than `before`. */
export async function pruneOutbox(sql: Queryable, before: Date): Promise<number> {
  const res = await sql`
    delete from notification_outbox
    where (delivered_at is not null and delivered_at < ${before}) or (failed_at is not null and failed_at < ${before})`
  return res.count
}
