import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import type { Queryable, Sql } from '../db/open.js'
import { AppError, notFound } from '../errors.js'
import { recordEvent } from '../events/events.repo.js'
import type { TargetCreate, TargetListQuery, TargetOut, TargetUpdate } from './targets.schema.js'
import {
  type LossWindowSource,
  type TargetEditable,
  type TargetFactsRow,
  type TargetRow,
  deleteTargetRow,
  endOpenOutage,
  findTarget,
  insertTarget,
  listTargetFacts,
  updateTargetColumns,
  updateTargetEnabled,
} from './targets.repo.js'
import { type TargetState, decideState } from './target-state.js'
import { deleteTargetData } from './target-data.repo.js'
import { isoOrNull } from '../lib/format.js'

// Target rules shared by the API, the CLI and the web UI: validation beyond the schema, address
// normalisation, events with the acting user. Each change is one transaction with its event.

/** The target or a 404 `{"detail": "Target not found"}`: every per-target route starts here. */
export async function requireTarget(sql: Queryable, id: number): Promise<TargetRow> {
  const t = await findTarget(sql, id)
  if (!t) throw notFound('Target')
  return t
}

/** A 422 naming one field, in the same shape as schema validation errors. */
export function fieldError(field: string, msg: string): AppError {
  return new AppError(422, [{ loc: ['body', field], msg }])
}

/** Resolves a hostname to one address (injectable: tests must not send DNS queries for fuzzed names). */
export type ResolveHost = (hostname: string) => Promise<string>
export const resolveWithDns: ResolveHost = async (hostname) => (await lookup(hostname, { verbatim: false })).address

// Address rules (API_GUIDE.md, "Targets"). An IPv4 literal is four decimal numbers without leading zeros:
// other numeric-looking text (010.0.0.1, 1.2.3, 0x7f.1, 2130706433) is what getaddrinfo and inet_aton read
// as octal, hex or a short form (010.0.0.1 → 8.0.0.1, 1.2.3 → 1.2.0.3), so it is refused, never resolved.
// As in the WHATWG URL parser, text whose last label is a number (decimal or 0x…) is an IPv4 attempt.
const IPV4_ATTEMPT = /(^|\.)(\d+|0x[0-9a-f]*)\.?$/i
const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/

const ADDRESS_RULES = {
  ipv4: 'value is not a valid IPv4 address: use four decimal numbers 0–255 without leading zeros, e.g. 192.0.2.1',
  zone: 'zone ids (the %… suffix) are not supported: pingscope stores normalised addresses and does not monitor scoped link-local addresses',
  unspecified: 'the unspecified address (0.0.0.0 or ::) is not a host that can be probed',
  broadcast: 'the broadcast address (255.255.255.255) is not a host that can be probed',
  multicast: 'a multicast address (224.0.0.0/4 or ff00::/8) is not a host that can be probed',
} as const

/**
 * The canonical text of an IP address literal (`2001:DB8:0::1` → `2001:db8::1`, IPv4-mapped IPv6 → IPv4),
 * `{ refused }` with the reason for an address pingscope does not monitor, or null when `raw` is no IP
 * address at all.
 */
function canonicalAddress(raw: string): { address: string } | { refused: string } | null {
  const zone = raw.indexOf('%')
  if (zone > 0 && isIP(raw.slice(0, zone))) return { refused: ADDRESS_RULES.zone }
  if (zone >= 0) return null
  let address: string
  if (isIP(raw) === 4) address = raw // node's isIP takes dotted-quad decimal only (no leading zeros)
  else if (isIP(raw) === 6) {
    // URL canonicalises IPv6 text (RFC 5952: lower case, longest zero run compressed).
    const url = URL.canParse(`http://[${raw}]/`) ? new URL(`http://[${raw}]/`) : null
    if (!url) return null
    address = url.hostname.slice(1, -1)
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address)
    if (mapped) {
      const n = (parseInt(mapped[1]!, 16) << 16) | parseInt(mapped[2]!, 16)
      address = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
    }
  } else return null
  if (address === '0.0.0.0' || address === '::') return { refused: ADDRESS_RULES.unspecified }
  if (address === '255.255.255.255') return { refused: ADDRESS_RULES.broadcast }
  const first = isIP(address) === 4 ? Number(address.split('.')[0]) : -1
  if ((first >= 224 && first <= 239) || /^ff[0-9a-f]{2}:/.test(address)) return { refused: ADDRESS_RULES.multicast }
  return { address }
}

/**
 * Canonical text of an IP address, or, for a hostname, the address it resolves to now (stored as such:
 * pingscope probes addresses, not names). Anything else is a 422 on `ip` with the reason.
 */
export async function normaliseAddress(input: string, resolve: ResolveHost = resolveWithDns): Promise<{ address: string; resolvedFrom: string | null }> {
  const raw = input.trim().replace(/^\[(.*)\]$/, '$1')
  const literal = canonicalAddress(raw)
  if (literal && 'refused' in literal) throw fieldError('ip', literal.refused)
  if (literal) return { address: literal.address, resolvedFrom: null }
  if (IPV4_ATTEMPT.test(raw)) throw fieldError('ip', ADDRESS_RULES.ipv4)
  if (!HOSTNAME.test(raw)) throw fieldError('ip', 'value is not a valid IPv4 or IPv6 address or hostname')
  let resolved: string
  try {
    resolved = await resolve(raw)
  } catch {
    throw fieldError('ip', `hostname ${raw} could not be resolved`)
  }
  // The answer obeys the literal rules: a name may resolve to 0.0.0.0 (DNS blocklists) or a scoped address.
  const answer = canonicalAddress(resolved)
  if (!answer) throw fieldError('ip', `hostname ${raw} resolved to ${resolved}, which is not an IP address`)
  if ('refused' in answer) throw fieldError('ip', `hostname ${raw} resolves to ${resolved}: ${answer.refused}`)
  return { address: answer.address, resolvedFrom: raw }
}

async function addEvent(sql: Queryable, targetId: number, type: string, message: string, actor: string, data: Record<string, unknown> = {}) {
  await recordEvent(sql, { targetId, type, message, actor, data })
}


/** A target as listed: its row, last sample and state (decided by target-state.ts). */
export interface TargetListed extends TargetFactsRow {
  state: TargetState
  stateSince: Date
}

export function targetJson(t: TargetListed): TargetOut {
  return {
    id: t.id,
    ip: t.address,
    frequency: t.intervalS,
    is_active: t.enabled,
    created_at: t.createdAt.toISOString(),
    url: t.url,
    notes: t.notes,
    name: t.name,
    tags: t.tags,
    packets: t.packets,
    timeout_ms: t.timeoutMs,
    badge_public: t.badgePublic,
    sites: t.sites,
    updated_at: t.updatedAt.toISOString(),
    state: t.state,
    state_since: t.stateSince.toISOString(),
    last_sample: t.lastTime ? { time: t.lastTime.toISOString(), latency_ms: t.lastRttUs === null ? null : t.lastRttUs / 1000, packet_loss: t.lastRttUs === null } : null,
    last_reply_at: isoOrNull(t.lastReplyAt),
  }
}

const withState = (r: TargetFactsRow): TargetListed => {
  const v = decideState(r, r.dbNow)
  return { ...r, state: v.state, stateSince: v.since }
}

/**
 * Targets with their state, filtered and paged (GET /targets/, `pingscope target list`). A filter on a
 * decided state (up, degraded, down, unknown) is applied after deciding, then paged here; `active` and
 * `paused` are a column and are paged by the database.
 */
export async function listTargets(
  sql: Queryable,
  q: Pick<TargetListQuery, 'tag' | 'state' | 'q' | 'limit' | 'offset' | 'sort'> & { ids?: number[] },
  lossWindow?: LossWindowSource,
): Promise<{ rows: TargetListed[]; total: number }> {
  const enabled = q.state === 'active' ? true : q.state === 'paused' ? false : undefined
  const decided = q.state !== undefined && enabled === undefined
  const base = { tag: q.tag, q: q.q, enabled, sort: q.sort, offset: q.offset, ...(q.ids ? { ids: q.ids } : {}) }
  if (!decided) {
    const rows = await listTargetFacts(sql, { ...base, limit: q.limit }, lossWindow)
    return { rows: rows.map(withState), total: rows[0]?.total ?? 0 }
  }
  const all = (await listTargetFacts(sql, { ...base, limit: null }, lossWindow)).map(withState).filter((t) => t.state === q.state)
  return { rows: all.slice(q.offset, q.offset + q.limit), total: all.length }
}

/** Every target's state and since when, and nothing else (the live stream's state watch, every few seconds). */
export async function listTargetStates(sql: Queryable, lossWindow?: LossWindowSource): Promise<{ id: number; state: TargetState; since: Date }[]> {
  const rows = await listTargetFacts(sql, { sort: 'id', limit: null, offset: 0, stateOnly: true }, lossWindow)
  return rows.map((r) => {
    const v = decideState(r, r.dbNow)
    return { id: r.id, state: v.state, since: v.since }
  })
}

export async function getTargetListed(sql: Queryable, id: number, lossWindow?: LossWindowSource): Promise<TargetListed> {
  const { rows } = await listTargets(sql, { ids: [id], limit: 1, offset: 0, sort: 'id' }, lossWindow)
  if (!rows[0]) throw notFound('Target')
  return rows[0]
}

export async function createTarget(
  sql: Sql,
  input: TargetCreate,
  actor: string,
  resolve: ResolveHost = resolveWithDns,
): Promise<{ id: number; address: string; resolvedFrom: string | null }> {
  const { address, resolvedFrom } = await normaliseAddress(input.ip, resolve)
  return sql.begin(async (tx) => {
    const id = await insertTarget(tx, {
      address,
      name: input.name ?? resolvedFrom,
      tags: input.tags,
      intervalS: input.frequency,
      packets: input.packets,
      timeoutMs: input.timeout_ms,
      url: input.url ?? null,
      notes: input.notes ?? null,
      badgePublic: input.badge_public,
      // A site nobody probes from yet is fine: its probes may start later.
      sites: input.sites,
    })
    if (id === null) throw new AppError(409, 'IP already monitored')
    await addEvent(tx, id, 'created', `Tracking started for ${address}${resolvedFrom ? ` (resolved from ${resolvedFrom})` : ''}`, actor, {
      address,
      resolved_from: resolvedFrom,
    })
    return { id, address, resolvedFrom }
  })
}

/** The columns a PATCH may change, as stored. */
const editable = (t: TargetRow): TargetEditable => ({
  interval_s: t.intervalS,
  url: t.url,
  notes: t.notes,
  name: t.name,
  tags: t.tags,
  packets: t.packets,
  timeout_ms: t.timeoutMs,
  badge_public: t.badgePublic,
  sites: t.sites,
})

export async function updateTarget(sql: Sql, id: number, input: TargetUpdate, actor: string): Promise<void> {
  await sql.begin(async (tx) => {
    const prev = editable(await requireTarget(tx, id))
    const next: typeof prev = {
      interval_s: input.frequency ?? prev.interval_s, // null leaves it unchanged (predecessor)
      url: input.url !== undefined ? input.url : prev.url,
      notes: input.notes !== undefined ? input.notes : prev.notes,
      name: input.name !== undefined ? (input.name || null) : prev.name,
      tags: input.tags ?? prev.tags,
      packets: input.packets ?? prev.packets,
      timeout_ms: input.timeout_ms ?? prev.timeout_ms,
      badge_public: input.badge_public ?? prev.badge_public,
      sites: input.sites !== undefined ? input.sites : prev.sites, // null: every site again
    }
    const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(next[k]))
    if (changed.length === 0) return
    await updateTargetColumns(tx, id, next, changed)
    await addEvent(tx, id, 'updated', `Updated ${changed.join(', ')}`, actor, {
      changes: Object.fromEntries(changed.map((k) => [k, { from: prev[k], to: next[k] }])),
    })
  })
}

/** Pauses or resumes; a no-op (and no event) when the target is already in that state. */
export async function setTargetEnabled(sql: Sql, id: number, enabled: boolean, actor: string): Promise<boolean> {
  return sql.begin(async (tx) => {
    const t = await requireTarget(tx, id)
    if (t.enabled === enabled) return false
    await updateTargetEnabled(tx, id, enabled)
    // Pausing ends an open outage: a paused target is not down.
    if (!enabled) await endOpenOutage(tx, id)
    await addEvent(tx, id, enabled ? 'start' : 'stop', enabled ? 'Tracking resumed' : 'Tracking paused', actor)
    return true
  })
}

/**
 * Deletes a target with its raw samples, rollup rows, outages and traceroutes; its events stay as the audit
 * trail. The measurements go first, in short transactions (see deleteTargetData); the target row goes
 * with its 'deleted' event and the last of its rows, so a failure midway leaves a target to delete again.
 */
export async function deleteTarget(sql: Sql, id: number, actor: string): Promise<void> {
  await requireTarget(sql, id)
  await deleteTargetData(sql, [id], async (tx) => {
    const t = await requireTarget(tx, id)
    await deleteTargetRow(tx, id)
    await addEvent(tx, id, 'deleted', `Tracking stopped and target ${t.address} deleted`, actor, { address: t.address, name: t.name })
  })
}
