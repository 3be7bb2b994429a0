import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { createSigner, createVerifier } from 'fast-jwt'
import {
  type AccessClaims,
  type AuthFailure,
  type AuthUser,
  type VerifyJwt,
  authenticateBearer,
  jwtSignOptions,
  jwtVerifyOptions,
  requireAdminRole,
} from '../src/auth/auth.service.js'
import { loadJwtSecret } from '../src/auth/bootstrap.js'
import type { Config } from '../src/config.js'
import { type Database, type Sql, openDatabase } from '../src/db/open.js'
import { type Logger, createLogger } from '../src/log.js'
import { type Credential, type UserEnv, databaseKey, readCredential } from './credentials.js'
import { CliError, type Output, createOutput } from './output.js'

// Every command but serve and migrate runs in a session: config → (stored credential) → database →
// (the credential checked against the users and tokens tables, the role against the command) → the
// command → close. The credential is looked up before the database is opened, so a command that would be
// refused does not start an embedded engine first.

export type Access = 'none' | 'read' | 'admin'

export interface GlobalOptions {
  json?: boolean
  quiet?: boolean
  verbose?: boolean
  color?: boolean
}

/** What every command gets from cli/index.ts. */
export interface CliDeps {
  getConfig: () => Config
  /** The process environment (read once in cli/index.ts): HOME, XDG_CONFIG_HOME, NO_COLOR. */
  env: UserEnv & { NO_COLOR?: string | undefined }
}

export interface Session {
  config: Config
  db: Database
  sql: Sql
  log: Logger
  out: Output
  /** The authenticated user; null only for Access 'none'. */
  user: AuthUser | null
  credential: Credential | null
  /** Which database the credential belongs to (see databaseKey). */
  key: string
  deps: CliDeps
}

export interface AuthedSession extends Session {
  user: AuthUser
}

/** The full command name for messages, e.g. `target add`. */
export const commandPath = (cmd: Command): string => {
  const names: string[] = []
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>()
}

export function outputFor(cmd: Command, deps: CliDeps): Output {
  const g = globalsOf(cmd)
  const color = g.color !== false && process.stdout.isTTY === true && !deps.env.NO_COLOR
  return createOutput({ json: g.json === true, quiet: g.quiet === true, color })
}

/** CLI logs go to stderr at warn unless --verbose, so that they do not drown the output. */
export function loggerFor(cmd: Command, config: Config): Logger {
  const quietLevels = ['silent', 'fatal', 'error']
  const level = globalsOf(cmd).verbose ? 'debug' : quietLevels.includes(config.logLevel) ? config.logLevel : 'warn'
  return createLogger(level)
}

/** HS256 access tokens exactly as the API's /auth/login issues them (same secret, claims and lifetime). */
export function signAccessToken(secret: string, expiresMin: number, claims: AccessClaims): { token: string; expiresAt: Date } {
  const opts = jwtSignOptions(expiresMin)
  const token = createSigner({ key: secret, algorithm: opts.algorithm, expiresIn: opts.expiresIn })(claims)
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }
  return { token, expiresAt: new Date(exp * 1000) }
}

function failureMessage(failure: AuthFailure, cred: Credential, key: string): string {
  const again = 'run `pingscope login`'
  switch (failure) {
    case 'expired':
      return cred.type === 'jwt'
        ? `your login to ${key} expired${cred.expires_at ? ` at ${cred.expires_at}` : ''}: ${again}`
        : `the API token stored for ${key} has expired: ${again}`
    case 'revoked':
      return `the API token stored for ${key} has been revoked: ${again}`
    case 'disabled':
      return `user ${cred.username} is disabled`
    case 'unknown_user':
      return `user ${cred.username} no longer exists: ${again}`
    case 'stale':
      return `your login to ${key} is no longer valid (the password, role or status of ${cred.username} changed since): ${again}`
    case 'invalid':
      return `the credential stored for ${key} is not valid here (signed with another secret, or unknown token): ${again}`
  }
}

/** Checks a stored credential against the database: the same rule as the API's bearer authentication. */
export async function authenticateCredential(sql: Sql, config: Config, cred: Credential): Promise<AuthUser | AuthFailure> {
  // An API token never reaches the verifier; a JWT needs the secret the API signs with.
  const verify: VerifyJwt =
    cred.type === 'jwt'
      ? createVerifier({ key: await loadJwtSecret(sql, config), ...jwtVerifyOptions })
      : () => {
          throw new Error('not a JWT')
        }
  const result = await authenticateBearer(sql, cred.token, verify)
  return result.user ?? result.failure
}

const notLoggedIn = (key: string) => new CliError(`not logged in to ${key}: run \`pingscope login\``)

/**
 * Checks the session's stored credential against the database (the API's bearer rule), then the role
 * `access` needs; fills in `s.user`.
 */
export async function authorize(s: Session, cmd: Command, access: 'read' | 'admin'): Promise<AuthedSession> {
  if (!s.credential) throw notLoggedIn(s.key)
  const result = await authenticateCredential(s.sql, s.config, s.credential)
  if (typeof result === 'string') throw new CliError(failureMessage(result, s.credential, s.key))
  if (access === 'admin') requireAdminRole(result, `\`pingscope ${commandPath(cmd)}\``)
  s.user = result
  return s as AuthedSession
}

/** Opens a session for `cmd`; the caller closes `db` when done (as `action` does). */
async function openSession(cmd: Command, deps: CliDeps, access: Access): Promise<Session> {
  const config = deps.getConfig()
  const out = outputFor(cmd, deps)
  const key = databaseKey(config)
  const credential = readCredential(deps.env, key)
  if (access !== 'none' && !credential) throw notLoggedIn(key)
  if (config.database.mode === 'embedded' && !existsSync(config.database.dataDir)) {
    throw new CliError(`no pingscope data directory at ${config.database.dataDir}: set DATA_DIR, or create it with \`pingscope migrate\``)
  }
  const log = loggerFor(cmd, config)
  const db = await openDatabase(config, { log, max: 1 })
  const session: Session = { config, db, sql: db.sql, log, out, user: null, credential, key, deps }
  if (access === 'none') return session
  try {
    return await authorize(session, cmd, access)
  } catch (err) {
    await db.close().catch(() => {})
    throw err
  }
}

/**
 * A commander action running in a session: `action(deps, 'admin', async (s, ip, opts, cmd) => …)`. The
 * session's database is closed however the command ends; errors reach cli/index.ts, which prints them.
 * With 'none' the command gets a session without a user (login, the first-admin bootstrap).
 */
export function action<A extends unknown[]>(deps: CliDeps, access: 'read' | 'admin', fn: (s: AuthedSession, ...args: A) => Promise<void>): (...raw: unknown[]) => Promise<void>
export function action<A extends unknown[]>(deps: CliDeps, access: 'none', fn: (s: Session, ...args: A) => Promise<void>): (...raw: unknown[]) => Promise<void>
export function action<A extends unknown[]>(deps: CliDeps, access: Access, fn: (s: AuthedSession, ...args: A) => Promise<void>) {
  return async (...raw: unknown[]) => {
    const cmd = raw.at(-1) as Command
    const session = await openSession(cmd, deps, access)
    try {
      await fn(session as AuthedSession, ...(raw as A))
    } finally {
      await session.db.close()
    }
  }
}
