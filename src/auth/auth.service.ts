import type { Sql } from '../db/open.js'
import { AppError } from '../errors.js'
import type { z } from 'zod'
import type { tokenCreateBody, userCreateBody, userUpdateBody } from './auth.schema.js'
import { hashPassword, verifyPassword } from './passwords.js'
import { type ApiToken, TOKEN_PREFIX, createToken, findTokenStatus, findUserByToken, listTokens, revokeToken } from './tokens.repo.js'
import { type Role, type User, createUser, findUserById, findUserByUsername, updateUser } from './users.repo.js'
import { isoOrNull } from '../lib/format.js'

// Authentication and account rules shared by the API (auth.plugin, auth.routes) and the CLI: who a
// bearer credential belongs to, password login, the admin gate, and user/token management.

export interface AuthUser {
  id: number
  username: string
  role: Role
  via: 'jwt' | 'api_token'
  /**
   * Set for a probe token (scope 'probe'): a remote probe agent of this site, allowed on /probe/* only
   * (auth.plugin.ts enforces it on every route); `tokenId` names the agent's credential.
   */
  probe?: { site: string; tokenId: number }
}

/** Where a probe token may go; and where nothing but a probe token may go. */
export const PROBE_ROUTE_PREFIX = '/probe/'
export const PROBE_ONLY_DETAIL = 'this token may only be used by a probe agent'
export const PROBE_TOKEN_REQUIRED_DETAIL = 'only a probe token (`pingscope tokens create <name> --probe --site <site>`) may use /probe/*'

/**
 * The access token's claims: HS256, signed with loadJwtSecret, `exp` from JWT_EXPIRES_MIN; `cv` is the
 * user's credential version when it was issued (a password, role or status change bumps it).
 */
export interface AccessClaims {
  sub: string
  uid: number
  role: Role
  cv: number
}

export const accessClaims = (u: User): AccessClaims => ({ sub: u.username, uid: u.id, role: u.role, cv: u.credentialVersion })

/** Options for @fastify/jwt (API) and fast-jwt (CLI): the same algorithm, lifetime and required claims. */
export const jwtSignOptions = (expiresMin: number) => ({ algorithm: 'HS256' as const, expiresIn: `${expiresMin}m` })
export const jwtVerifyOptions = { algorithms: ['HS256' as const], requiredClaims: ['exp', 'sub'] }

/**
 * Why a credential was refused (the API answers "Invalid token" whatever the reason; the CLI says which).
 * `stale`: a JWT issued before its user's password, role or status changed.
 */
export type AuthFailure = 'invalid' | 'expired' | 'revoked' | 'disabled' | 'unknown_user' | 'stale'

export type AuthResult = { user: AuthUser; failure?: never } | { user?: never; failure: AuthFailure }

/** Verifies a JWT's signature and expiry and returns its claims; throws (fast-jwt's TokenError) otherwise. */
export type VerifyJwt = (token: string) => { sub: string; uid: number; cv?: number }

/**
 * The user behind a bearer credential: an API token (`pst_…`, not revoked or expired) or a JWT. The user
 * is read from the database every time (one query by primary key for a JWT), so disabling a user or
 * changing a role applies at once, and a JWT issued before the user's last password, role or status
 * change is refused. A probe token is 'invalid' unless the caller says it routes probe tokens
 * (`probeTokens`: only the API's authenticate, which confines them to /probe/*), so no other caller (the
 * CLI's stored credential, the live stream's watch) can mistake one for its admin's rights.
 */
export async function authenticateBearer(sql: Sql, token: string, verifyJwt: VerifyJwt, opts: { probeTokens?: boolean } = {}): Promise<AuthResult> {
  if (token.startsWith(TOKEN_PREFIX)) {
    const held = await findUserByToken(sql, token)
    if (held && held.scope === 'probe' && !opts.probeTokens) return { failure: 'invalid' }
    if (held) {
      const { user } = held
      const probe = held.scope === 'probe' ? { probe: { site: held.site!, tokenId: held.tokenId } } : {}
      return { user: { id: user.id, username: user.username, role: user.role, via: 'api_token', ...probe } }
    }
    const status = await findTokenStatus(sql, token)
    if (!status) return { failure: 'invalid' }
    if (status.revokedAt) return { failure: 'revoked' }
    if (status.userDisabled) return { failure: 'disabled' }
    return { failure: 'expired' }
  }
  let payload: ReturnType<VerifyJwt>
  try {
    payload = verifyJwt(token)
  } catch (err) {
    return { failure: (err as { code?: string }).code === 'FAST_JWT_EXPIRED' ? 'expired' : 'invalid' }
  }
  const user = typeof payload.uid === 'number' ? await findUserById(sql, payload.uid) : null
  if (!user || user.username !== payload.sub) return { failure: 'unknown_user' }
  if (user.disabled) return { failure: 'disabled' }
  // JWTs from before credential versions had no `cv`: valid until the user's first change (version 0).
  if ((payload.cv ?? 0) !== user.credentialVersion) return { failure: 'stale' }
  return { user: { id: user.id, username: user.username, role: user.role, via: 'jwt' } }
}

/** Only admins change anything; viewers read. */
export function requireAdminRole(user: { role: Role } | null | undefined, action = 'This action'): void {
  if (user?.role !== 'admin') throw new AppError(403, `${action} requires the admin role`)
}

// A fixed hash to verify against when the user does not exist, so timing does not reveal usernames.
let dummyHash: Promise<string> | undefined

/** The active user with this username and password, or null (unknown user, wrong password, disabled). */
export async function checkPassword(sql: Sql, username: string, password: string): Promise<User | null> {
  const dummy = await (dummyHash ??= hashPassword('pingscope-timing-equaliser'))
  const user = await findUserByUsername(sql, username)
  const ok = await verifyPassword(password, user?.passwordHash ?? dummy)
  if (!user || !ok || user.disabled) return null
  const { passwordHash: _h, ...rest } = user
  return rest
}

export type UserCreate = z.infer<typeof userCreateBody>
export type UserUpdate = z.infer<typeof userUpdateBody>
export type TokenCreate = z.infer<typeof tokenCreateBody>

export async function addUser(sql: Sql, body: UserCreate): Promise<User> {
  const user = await createUser(sql, { username: body.username, passwordHash: await hashPassword(body.password), role: body.role })
  if (!user) throw new AppError(409, `User ${body.username} already exists`)
  return user
}

/**
 * Called after a change that may end credentials (a user's password, role or status, a revoked token),
 * so that this process re-checks its open streams at once (see credential-watch.ts).
 */
export type CredentialsChanged = () => void

/**
 * Changes password, role or disabled; nobody demotes or disables themselves (there must stay an admin).
 * A real change refuses the user's earlier JWTs (see updateUser).
 */
export async function changeUser(sql: Sql, actor: { id: number }, id: number, body: UserUpdate, changed?: CredentialsChanged): Promise<User> {
  if (id === actor.id && (body.role === 'viewer' || body.disabled === true)) {
    throw new AppError(400, 'You cannot demote or disable yourself')
  }
  const user = await updateUser(sql, id, {
    ...(body.password ? { passwordHash: await hashPassword(body.password) } : {}),
    ...(body.role ? { role: body.role } : {}),
    ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
  })
  if (!user) throw new AppError(404, 'User not found')
  changed?.()
  return user
}

/** Everyone manages their own tokens; admins see and revoke all. */
export async function listVisibleTokens(sql: Sql, user: AuthUser): Promise<ApiToken[]> {
  return listTokens(sql, user.role === 'admin' ? null : user.id)
}

/**
 * A token for the caller. A probe token (scope 'probe', for a remote probe agent of `site`) is an
 * admin's to create: it writes samples and outages and takes leases for its site; it belongs to that
 * admin (disabling them stops it too).
 */
export async function issueToken(sql: Sql, user: { id: number; role: Role }, body: TokenCreate, now = Date.now()) {
  if (body.scope === 'probe') requireAdminRole(user, 'Creating a probe token')
  const expiresAt = body.expires_in_days ? new Date(now + body.expires_in_days * 86_400_000) : null
  return createToken(sql, { userId: user.id, name: body.name, expiresAt, scope: body.scope ?? null, site: body.scope === 'probe' ? body.site! : null })
}

export async function revokeVisibleToken(sql: Sql, user: AuthUser, id: number, changed?: CredentialsChanged): Promise<void> {
  const ok = await revokeToken(sql, id, user.role === 'admin' ? null : user.id)
  if (!ok) throw new AppError(404, 'Token not found')
  changed?.()
}


export const userJson = (u: User) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  disabled: u.disabled,
  created_at: u.createdAt.toISOString(),
  updated_at: u.updatedAt.toISOString(),
})

export const tokenJson = (t: ApiToken) => ({
  id: t.id,
  user_id: t.userId,
  name: t.name,
  prefix: t.prefix,
  created_at: t.createdAt.toISOString(),
  last_used_at: isoOrNull(t.lastUsedAt),
  expires_at: isoOrNull(t.expiresAt),
  revoked_at: isoOrNull(t.revokedAt),
  scope: t.scope,
  site: t.site,
})
