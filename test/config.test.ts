import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('config', () => {
  it('defaults to the embedded engine in ./data', () => {
    const c = loadConfig({}, '/srv/app')
    expect(c.database).toMatchObject({ mode: 'embedded', dataDir: '/srv/app/data' })
    expect(c.port).toBe(6666)
    expect(c.retention).toEqual({ rawDays: 3, minuteDays: 30, hourDays: 1825 })
  })

  it('uses server mode when DATABASE_URL is set', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/pingscope' })
    expect(c.database).toEqual({ mode: 'server', url: 'postgres://u:p@db:5432/pingscope', poolMax: 4 })
  })

  it('lists every bad key at once', () => {
    let err: unknown
    try {
      loadConfig({ DATABASE_MODE: 'cloud', DATABASE_URL: 'mysql://x', PORT: '70000', RETENTION_RAW_DAYS: '0', JOBS_ENABLED: 'maybe' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const problems = (err as ConfigError).problems
    const keys = problems.map((p) => p.split(':')[0])
    expect(keys).toEqual(expect.arrayContaining(['DATABASE_MODE', 'DATABASE_URL', 'PORT', 'RETENTION_RAW_DAYS', 'JOBS_ENABLED']))
    expect(problems).toHaveLength(5)
    // The URL may hold a password: it is never echoed back.
    expect(problems.find((p) => p.startsWith('DATABASE_URL'))).not.toContain('mysql://x')
  })

  it('names the probe hostname-pid in site default unless told, and refuses names that break labels', () => {
    const c = loadConfig({})
    expect(c.probe).toMatchObject({ name: expect.stringMatching(new RegExp(`-${process.pid}$`)), site: 'default', heartbeatMs: 2000 })
    expect(loadConfig({ PROBE_NAME: 'edge-1.fra', PROBE_SITE: 'fra-1', PROBE_HEARTBEAT_MS: '500' }).probe).toMatchObject({ name: 'edge-1.fra', site: 'fra-1', heartbeatMs: 500 })
    expect(() => loadConfig({ PROBE_NAME: 'a"b}' })).toThrow(/PROBE_NAME: must be 1-100 letters/)
    expect(() => loadConfig({ PROBE_SITE: 'Frankfurt 1' })).toThrow(/PROBE_SITE: must be 1-64 lowercase/)
    expect(() => loadConfig({ PROBE_HEARTBEAT_MS: '10' })).toThrow(/PROBE_HEARTBEAT_MS/)
  })

  it('requires each retention tier to outlive the one it is computed from', () => {
    expect(() => loadConfig({ RETENTION_RAW_DAYS: '40', RETENTION_1M_DAYS: '30' })).toThrow(/RETENTION_1M_DAYS: must be greater/)
  })

  it('requires DATABASE_URL in explicit server mode and treats empty values as unset', () => {
    expect(() => loadConfig({ DATABASE_MODE: 'server', DATABASE_URL: '' })).toThrow(/DATABASE_URL: is required/)
  })

  it('refuses to run in production with a missing, short or well-known JWT secret, without echoing it', () => {
    for (const secret of [undefined, 'short-secret', 'change-this-secret', 'super-secret-key']) {
      let err: unknown
      try {
        loadConfig({ NODE_ENV: 'production', ...(secret ? { JWT_SECRET: secret } : {}) })
      } catch (e) {
        err = e
      }
      expect(err, String(secret)).toBeInstanceOf(ConfigError)
      const line = (err as ConfigError).problems.find((p) => p.startsWith('JWT_SECRET'))
      expect(line).toMatch(/at least 32 characters in production/)
      if (secret) expect(line).not.toContain(secret)
    }
    const ok = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(24) + 'random-enough-1234' })
    expect(ok.auth.jwtSecret).toHaveLength(42)
    // outside production an unset secret is fine: one is generated and kept in the database
    expect(loadConfig({}).auth.jwtSecret).toBeNull()
  })
})
