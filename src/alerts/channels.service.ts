import { randomBytes } from 'node:crypto'
import type { Queryable, Sql } from '../db/open.js'
import { AppError, type FieldProblem, notFound } from '../errors.js'
import { type ChannelListed, deleteChannelRow, findChannel, insertChannel, listChannels, updateChannelRow } from './channels.repo.js'
import { CONFIG_SCHEMAS, type ChannelCreate, type ChannelKind, type ChannelOut, type ChannelUpdate } from './channels.schema.js'

// Channels for the API: the kind's config checked (errors name `config.<field>`), a webhook secret
// generated when none is given (shown once), and secrets masked in every answer: a webhook's secret,
// a Slack URL (it is its own credential), an SMTP password, and the credentials or query of a webhook
// URL.

const MASK = '****'

/** `****` and the last 4 characters of a long secret (enough to tell two apart), `****` otherwise. */
export function maskSecret(s: string): string {
  return s.length >= 16 ? `${MASK}${s.slice(-4)}` : MASK
}

function maskUrl(raw: string, path: boolean): string {
  try {
    const u = new URL(raw)
    const tail = path ? `/${MASK}${u.pathname.slice(-4)}` : u.pathname
    return `${u.protocol}//${u.username || u.password ? `${MASK}@` : ''}${u.host}${tail}${u.search ? `?${MASK}` : ''}`
  } catch {
    return MASK
  }
}

export function maskConfig(kind: ChannelKind, config: Record<string, unknown>): Record<string, unknown> {
  const str = (k: string) => (typeof config[k] === 'string' ? (config[k] as string) : '')
  switch (kind) {
    case 'webhook':
      return { ...config, url: maskUrl(str('url'), false), secret: maskSecret(str('secret')) }
    case 'slack':
      return { ...config, url: maskUrl(str('url'), true) }
    case 'email':
      return { ...config, password: config.password ? MASK : null }
  }
}

export function channelJson(c: ChannelListed): ChannelOut {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    config: maskConfig(c.kind, c.config),
    pending: c.pending,
    last_error: c.lastError,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  }
}

/** The kind's config, parsed; a 422 naming `body.config.<field>` otherwise. */
function parseConfig(kind: ChannelKind, config: Record<string, unknown>): Record<string, unknown> {
  const r = CONFIG_SCHEMAS[kind].safeParse(config)
  if (r.success) return r.data
  const problems: FieldProblem[] = r.error.issues.map((i) => ({ loc: ['body', 'config', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], msg: i.message }))
  throw new AppError(422, problems)
}

const taken = (name: string) => new AppError(409, `Channel ${name} already exists`)

export async function listChannelsJson(sql: Queryable): Promise<ChannelOut[]> {
  return (await listChannels(sql)).map(channelJson)
}

export async function getChannelJson(sql: Queryable, id: number): Promise<ChannelOut> {
  const [c] = await listChannels(sql, id)
  if (!c) throw notFound('Channel')
  return channelJson(c)
}

export async function createChannel(sql: Queryable, b: ChannelCreate): Promise<ChannelOut & { secret?: string }> {
  const config = parseConfig(b.kind, b.config)
  let generated: string | undefined
  if (b.kind === 'webhook' && !config.secret) config.secret = generated = randomBytes(32).toString('base64url')
  const id = await insertChannel(sql, { name: b.name, kind: b.kind, config, enabled: b.enabled })
  if (id === null) throw taken(b.name)
  return { ...(await getChannelJson(sql, id)), ...(generated ? { secret: generated } : {}) }
}

/** A PATCH: `config` is merged into the current one (absent keys, secrets included, are kept; null clears). */
export async function changeChannel(sql: Queryable, id: number, p: ChannelUpdate): Promise<ChannelOut> {
  const c = await findChannel(sql, id)
  if (!c) throw notFound('Channel')
  const merged: Record<string, unknown> = { ...c.config }
  for (const [k, v] of Object.entries(p.config ?? {})) {
    if (v === null) delete merged[k]
    else merged[k] = v
  }
  const config = parseConfig(c.kind, merged)
  // A webhook always has a secret: `"secret": null` would leave it unsigned.
  if (c.kind === 'webhook' && !config.secret) throw new AppError(422, [{ loc: ['body', 'config', 'secret'], msg: 'a webhook needs a secret of at least 16 characters' }])
  try {
    await updateChannelRow(sql, id, { name: p.name ?? c.name, config, enabled: p.enabled ?? c.enabled })
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw taken(p.name ?? c.name)
    throw err
  }
  return getChannelJson(sql, id)
}

/** Deletes the channel, its queued notifications, and its id from every rule (one transaction). */
export async function deleteChannel(sql: Sql, id: number): Promise<void> {
  if (!(await sql.begin((tx) => deleteChannelRow(tx, id)))) throw notFound('Channel')
}
