import type { Queryable } from '../db/open.js'
import type { ChannelKind } from './channels.schema.js'

export interface ChannelRow {
  id: number
  name: string
  kind: ChannelKind
  config: Record<string, unknown>
  enabled: boolean
  createdAt: Date
  updatedAt: Date
}

/** A channel with its queue: undelivered notifications and the newest delivery error. */
export interface ChannelListed extends ChannelRow {
  pending: number
  lastError: string | null
}

// config is read as text and parsed here: the driver's camelCase transform would rename keys inside it.
export const CHANNEL_COLUMNS = (sql: Queryable) => sql`c.id, c.name, c.kind, c.config::text as config, c.enabled, c.created_at, c.updated_at`

/** A row as read with CHANNEL_COLUMNS, its config parsed. */
export const withConfig = <T extends { config: unknown }>(r: T): T & { config: Record<string, unknown> } => ({
  ...r,
  config: JSON.parse(r.config as string) as Record<string, unknown>,
})

export async function listChannels(sql: Queryable, id?: number): Promise<ChannelListed[]> {
  const rows = await sql<ChannelListed[]>`
    select ${CHANNEL_COLUMNS(sql)},
      (select count(*)::int from notification_outbox o
        where o.channel_id = c.id and o.delivered_at is null and o.failed_at is null) as pending,
      (select o.last_error from notification_outbox o
        where o.channel_id = c.id and o.last_error is not null order by o.id desc limit 1) as last_error
    from alert_channels c
    where ${id === undefined ? sql`true` : sql`c.id = ${id}`}
    order by c.id`
  return rows.map(withConfig)
}

export async function findChannel(sql: Queryable, id: number): Promise<ChannelRow | null> {
  const [row] = await sql<ChannelRow[]>`select ${CHANNEL_COLUMNS(sql)} from alert_channels c where c.id = ${id}`
  return row ? withConfig(row) : null
}

/** Inserts a channel; null when the name is taken. */
export async function insertChannel(
  sql: Queryable,
  c: { name: string; kind: ChannelKind; config: Record<string, unknown>; enabled: boolean },
): Promise<number | null> {
  const [row] = await sql<{ id: number }[]>`
    insert into alert_channels (name, kind, config, enabled)
    values (${c.name}, ${c.kind}, ${sql.json(c.config as never)}, ${c.enabled})
    on conflict (name) do nothing
    returning id`
  return row?.id ?? null
}

/** A taken name fails with 23505 (the error handler's 409). */
export async function updateChannelRow(
  sql: Queryable,
  id: number,
  c: { name: string; config: Record<string, unknown>; enabled: boolean },
): Promise<void> {
  await sql`
    update alert_channels set name = ${c.name}, config = ${sql.json(c.config as never)}, enabled = ${c.enabled}, updated_at = now()
    where id = ${id}`
}

/** Deletes the channel (its queued notifications go with it) and takes its id out of every rule. */
export async function deleteChannelRow(sql: Queryable, id: number): Promise<boolean> {
  await sql`update alert_rules set channel_ids = array_remove(channel_ids, ${id}::int), updated_at = now() where ${id}::int = any (channel_ids)`
  const res = await sql`delete from alert_channels where id = ${id}`
  return res.count > 0
}

/** The enabled channels among `ids`, for a rule's notifications. */
export async function enabledChannels(sql: Queryable, ids: readonly number[]): Promise<ChannelRow[]> {
  if (ids.length === 0) return []
  const rows = await sql<ChannelRow[]>`
    select ${CHANNEL_COLUMNS(sql)} from alert_channels c
    where c.enabled and c.id in ${sql(ids as number[])}
    order by c.id`
  return rows.map(withConfig)
}
