import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { ensureAdmin, loadJwtSecret } from '../../src/auth/bootstrap.js'
import { hashPassword } from '../../src/auth/passwords.js'
import { createUser } from '../../src/auth/users.repo.js'
import { createJobRunner } from '../../src/db/maintenance/jobs.js'
import { type LiveHub, createLiveHub } from '../../src/live/hub.js'
import { type TestDatabase, openTestDatabase, testLog } from './db.js'
import type { EngineKind } from './engines.js'

export const ADMIN = { username: 'admin', password: 'admin-password-123' }
export const VIEWER = { username: 'viewer', password: 'viewer-password-123' }

export interface TestApp {
  app: FastifyInstance
  db: TestDatabase
  /** Bearer headers of a logged-in admin and viewer. */
  admin: { authorization: string }
  viewer: { authorization: string }
  live: LiveHub
  close(): Promise<void>
}

/**
 * The HTTP app on a fresh database of `engine` (no probe scheduler; no traceroute schedules run unless
 * `env` turns them on), with an admin and a viewer logged in.
 */
export async function buildTestApp(engine: EngineKind, env: Record<string, string> = {}): Promise<TestApp> {
  const db = await openTestDatabase({ engine, env: { ADMIN_PASSWORD: ADMIN.password, TRACEROUTE_SCHEDULE_ENABLED: 'false', ...env } })
  const jwtSecret = await loadJwtSecret(db.sql, db.config)
  await ensureAdmin(db.sql, db.config, testLog)
  await createUser(db.sql, { username: VIEWER.username, passwordHash: await hashPassword(VIEWER.password), role: 'viewer' })
  const jobs = createJobRunner({ sql: db.sql, log: testLog, mode: db.mode, enabled: false, pollMs: 60_000, vacuumIntervalMs: 3_600_000 })
  const live = createLiveHub({ flushMs: 100 })
  const app = await buildApp({
    live,
    // Tests never send DNS queries: only localhost resolves (from /etc/hosts), anything else is unknown.
    resolveHost: async (name) => {
      if (name.toLowerCase() === 'localhost') return '127.0.0.1'
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
    },
    config: db.config,
    db,
    log: testLog,
    jobs,
    jwtSecret,
    probe: () => ({ enabled: false, running: false, error: 'not started in tests', scheduler: null, writer: { retrying: false, dropped: 0 } }),
  })
  await app.ready()
  const login = async (u: { username: string; password: string }) => {
    const res = await app.inject({ method: 'POST', url: '/auth/login', payload: u })
    if (res.statusCode !== 200) throw new Error(`login ${u.username}: ${res.statusCode} ${res.body}`)
    return { authorization: `Bearer ${res.json<{ access_token: string }>().access_token}` }
  }
  return {
    app,
    db,
    admin: await login(ADMIN),
    viewer: await login(VIEWER),
    live,
    async close() {
      live.close()
      await app.close()
      await db.destroy()
    },
  }
}
