import { randomBytes } from 'node:crypto'
import type { Config } from '../config.js'
import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { hashPassword, randomPassword } from './passwords.js'
import { ensureJwtSecret } from './tokens.repo.js'
import { countUsers, createUser } from './users.repo.js'

/**
 * The JWT signing secret: JWT_SECRET when configured (required in production); otherwise a random one
 * generated on first start and kept in the database, so tokens survive restarts and every process
 * (server, CLI) agrees on it.
 */
export async function loadJwtSecret(sql: Sql, config: Config): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret
  return ensureJwtSecret(sql, randomBytes(48).toString('base64url'))
}

/** Creates the first admin when there are no users yet; logs a generated password once. */
export async function ensureAdmin(sql: Sql, config: Config, log: Logger): Promise<void> {
  if ((await countUsers(sql)) > 0) return
  const password = config.auth.adminPassword ?? randomPassword()
  const user = await createUser(sql, { username: config.auth.adminUsername, passwordHash: await hashPassword(password), role: 'admin' })
  if (!user) return // another process created it first
  if (config.auth.adminPassword) log.info({ username: user.username }, 'created the admin user from ADMIN_PASSWORD')
  else log.warn({ username: user.username, password }, 'created the admin user with a generated password: note it now, it is not shown again (set ADMIN_PASSWORD to choose it)')
}
