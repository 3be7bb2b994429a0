import { createHash, randomBytes } from 'node:crypto'
import type { Sql } from '../db/open.js'
import type { User } from './users.repo.js'

// API tokens for scripts: `pst_` + 32 random bytes (base64url). Only a SHA-256 hash is stored (the token
// has 256 bits of entropy, so a slow hash adds nothing); the first characters are kept to tell tokens apart.

export const TOKEN_PREFIX = 'pst_'

export interface ApiToken {
  id: number
  userId: number
  name: string
  prefix: string
  createdAt: Date
  lastUsedAt: Date | null
  expiresAt: Date | null
  revokedAt: Date | null
  /** null: the user's own rights; 'probe': a remote probe agent's token, /probe/* only, for `site`. */
  scope: 'probe' | null
  site: string | null
}

/** A valid token's owner, and what the token itself is limited to. */
export interface TokenHolder {
  user: User
  tokenId: number
  scope: 'probe' | null
  site: string | null
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

export async function createToken(
  sql: Sql,
  t: { userId: number; name: string; expiresAt: Date | null; scope?: 'probe' | null; site?: string | null },
): Promise<{ token: string; record: ApiToken }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
  const [record] = await sql<ApiToken[]>`
    insert into api_tokens (user_id, name, token_hash, prefix, expires_at, scope, site)
    values (${t.userId}, ${t.name}, ${hashToken(token)}, ${token.slice(0, 12)}, ${t.expiresAt}, ${t.scope ?? null}, ${t.site ?? null})
    returning id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at, scope, site`
  return { token, record: record! }
}

export async function listTokens(sql: Sql, userId: number | null): Promise<ApiToken[]> {
  return sql<ApiToken[]>`
    select id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at, scope, site from api_tokens
    where ${userId === null ? sql`true` : sql`user_id = ${userId}`} order by id`
}

/** Revokes a token; `userId` restricts it to that user's own tokens (null: any, for admins). */
export async function revokeToken(sql: Sql, id: number, userId: number | null): Promise<boolean> {
  const rows = await sql`
    update api_tokens set revoked_at = coalesce(revoked_at, now())
    where id = ${id} and ${userId === null ? sql`true` : sql`user_id = ${userId}`}
    returning id`
  return rows.length > 0
}

/** The active user owning a valid (not revoked, not expired) token, with the token's limits, or null. */
export async function findUserByToken(sql: Sql, token: string): Promise<TokenHolder | null> {
  const [u] = await sql<(User & { tokenId: number; lastUsedAt: Date | null; scope: 'probe' | null; site: string | null })[]>`
    select u.id, u.username, u.role, u.disabled, u.credential_version, u.created_at, u.updated_at, t.id as token_id, t.last_used_at,
           t.scope, t.site
    from api_tokens t join users u on u.id = t.user_id
    where t.token_hash = ${hashToken(token)} and t.revoked_at is null
      and (t.expires_at is null or t.expires_at > now()) and not u.disabled`
  if (!u) return null
  // Record use at most once a minute per token, not on every request.
  if (!u.lastUsedAt || Date.now() - u.lastUsedAt.getTime() > 60_000) {
    await sql`update api_tokens set last_used_at = now() where id = ${u.tokenId}`
  }
  const { tokenId, lastUsedAt: _l, scope, site, ...user } = u
  return { user, tokenId, scope, site }
}

/** Why a token is refused, for a clearer message than "invalid": null when no such token exists. */
export async function findTokenStatus(
  sql: Sql,
  token: string,
): Promise<{ revokedAt: Date | null; expiresAt: Date | null; userDisabled: boolean } | null> {
  const [t] = await sql<{ revokedAt: Date | null; expiresAt: Date | null; userDisabled: boolean }[]>`
    select t.revoked_at, t.expires_at, u.disabled as user_disabled
    from api_tokens t join users u on u.id = t.user_id where t.token_hash = ${hashToken(token)}`
  return t ?? null
}

/** The stored JWT signing secret; `candidate` is stored first when there is none (the first process wins). */
export async function ensureJwtSecret(sql: Sql, candidate: string): Promise<string> {
  await sql`insert into app_settings (key, value) values ('jwt_secret', ${candidate}) on conflict (key) do nothing`
  const [row] = await sql<{ value: string }[]>`select value from app_settings where key = 'jwt_secret'`
  return row!.value
}
