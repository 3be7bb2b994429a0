import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, type TestApp, VIEWER, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

describe.each(ENGINES)('auth API (%s engine)', (engine) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp(engine)
  })
  afterAll(() => t?.close())

  it('logs in with the predecessor contract and refuses bad credentials', async () => {
    const ok = await t.app.inject({ method: 'POST', url: '/auth/login', payload: ADMIN })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({ token_type: 'bearer', access_token: expect.any(String) })
    const bad = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'admin', password: 'nope' } })
    expect(bad.statusCode).toBe(401)
    expect(bad.json()).toEqual({ detail: 'Invalid credentials' })
    const nonAscii = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'é', password: 'é' } })
    expect(nonAscii.statusCode).toBe(401) // a wrong password, not a 500
    const missing = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'admin' } })
    expect(missing.statusCode).toBe(422)
    expect(JSON.stringify(missing.json().detail)).toContain('password')
  })

  it('knows who is calling, by JWT or API token, and revokes tokens', async () => {
    const me = await t.app.inject({ url: '/auth/me', headers: t.viewer })
    expect(me.json()).toMatchObject({ username: 'viewer', role: 'viewer', via: 'jwt' })
    const created = await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'ci script' } })
    expect(created.statusCode).toBe(201)
    const { token, id } = created.json<{ token: string; id: number }>()
    expect(token).toMatch(/^pst_/)
    const viaToken = await t.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })
    expect(viaToken.json()).toMatchObject({ username: 'admin', via: 'api_token' })
    const list = await t.app.inject({ url: '/tokens', headers: t.admin })
    expect(JSON.stringify(list.json())).not.toContain(token) // never shown again
    expect((await t.app.inject({ method: 'DELETE', url: `/tokens/${id}`, headers: t.admin })).statusCode).toBe(200)
    const revoked = await t.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })
    expect(revoked.statusCode).toBe(401)
    expect(revoked.json()).toEqual({ detail: 'Invalid token' })
  })

  it('limits login attempts per client address and username: one user locked out does not lock out the others', async () => {
    // inject's remoteAddress is the client address the limiter sees; these tests use their own
    const from = (remoteAddress: string, payload: object) => t.app.inject({ method: 'POST', url: '/auth/login', payload, remoteAddress })
    for (let i = 0; i < 10; i++) {
      expect((await from('198.51.100.7', { username: 'viewer', password: `wrong-${i}` })).statusCode).toBe(401)
    }
    const locked = await from('198.51.100.7', VIEWER) // even with the right password
    expect(locked.statusCode).toBe(429)
    expect(locked.json().detail).toMatch(/^Too many login attempts; retry in \d+ s$/)
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0)
    expect((await from('198.51.100.7', { username: 'VIEWER', password: 'x' })).statusCode).toBe(429) // usernames are case-insensitive
    // another user from the same address (behind a proxy: everyone), and the same user from elsewhere
    expect((await from('198.51.100.7', ADMIN)).statusCode).toBe(200)
    expect((await from('198.51.100.8', VIEWER)).statusCode).toBe(200)
  })

  it('bounds login attempts per minute across all addresses and usernames (LOGIN_RATE_LIMIT_GLOBAL_PER_MIN)', async () => {
    const g = await buildTestApp(engine, { LOGIN_RATE_LIMIT_GLOBAL_PER_MIN: '12' }) // its admin and viewer logins count: 2
    try {
      // a password spray: one attempt per username, each from its own address
      for (let i = 0; i < 10; i++) {
        const res = await g.app.inject({ method: 'POST', url: '/auth/login', payload: { username: `user${i}`, password: 'Winter2026!' }, remoteAddress: `203.0.113.${i + 1}` })
        expect(res.statusCode, `attempt ${i}`).toBe(401)
      }
      const over = await g.app.inject({ method: 'POST', url: '/auth/login', payload: ADMIN, remoteAddress: '203.0.113.200' })
      expect(over.statusCode).toBe(429)
      expect(over.json().detail).toMatch(/^Too many login attempts; retry in \d+ s$/)
      // requests with a token are not login attempts
      expect((await g.app.inject({ url: '/auth/me', headers: g.admin })).statusCode).toBe(200)
    } finally {
      await g.close()
    }
  })

  it('refuses every JWT issued before a password change, role change or disable (API tokens stay until revoked)', async () => {
    const pw = 'rotate-password-1'
    const created = await t.app.inject({ method: 'POST', url: '/users', headers: t.admin, payload: { username: 'rotator', password: pw, role: 'viewer' } })
    expect(created.statusCode).toBe(201)
    const id = created.json<{ id: number }>().id
    const login = async (password: string) => {
      const res = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'rotator', password }, remoteAddress: '192.0.2.44' })
      expect(res.statusCode).toBe(200)
      return { authorization: `Bearer ${res.json<{ access_token: string }>().access_token}` }
    }
    const me = async (headers: { authorization: string }) => (await t.app.inject({ url: '/auth/me', headers })).statusCode
    const patch = async (payload: object) => expect((await t.app.inject({ method: 'PATCH', url: `/users/${id}`, headers: t.admin, payload })).statusCode).toBe(200)

    const first = await login(pw)
    const second = await login(pw)
    const apiToken = (await t.app.inject({ method: 'POST', url: '/tokens', headers: first, payload: { name: 'rotator script' } })).json<{ token: string }>().token
    expect([await me(first), await me(second)]).toEqual([200, 200])

    await patch({ password: 'rotate-password-2' })
    const refused = await t.app.inject({ url: '/auth/me', headers: first })
    expect([refused.statusCode, refused.json()]).toEqual([401, { detail: 'Invalid token' }])
    expect(await me(second)).toBe(401)
    expect(await me({ authorization: `Bearer ${apiToken}` })).toBe(200)
    const third = await login('rotate-password-2')
    expect(await me(third)).toBe(200)

    await patch({ role: 'viewer' }) // no change: nobody is logged out
    expect(await me(third)).toBe(200)
    await patch({ role: 'admin' })
    expect(await me(third)).toBe(401)

    const fourth = await login('rotate-password-2')
    await patch({ disabled: true })
    await patch({ disabled: false })
    expect(await me(fourth)).toBe(401) // enabling again does not bring old sessions back
    expect(await me(await login('rotate-password-2'))).toBe(200)
  })

  it('keeps user management to admins', async () => {
    const denied = await t.app.inject({ method: 'POST', url: '/users', headers: t.viewer, payload: { username: 'x', password: 'password-123' } })
    expect(denied.statusCode).toBe(403)
    const created = await t.app.inject({ method: 'POST', url: '/users', headers: t.admin, payload: { username: 'ops', password: 'password-123', role: 'viewer' } })
    expect(created.statusCode).toBe(201)
    const dup = await t.app.inject({ method: 'POST', url: '/users', headers: t.admin, payload: { username: 'OPS', password: 'password-123' } })
    expect(dup.statusCode).toBe(409)
    const short = await t.app.inject({ method: 'POST', url: '/users', headers: t.admin, payload: { username: 'y', password: 'short' } })
    expect(short.statusCode).toBe(422)
    expect(JSON.stringify(short.json())).toContain('password')
  })

  it('allows no cross-origin browser calls unless CORS_ORIGINS lists the origin', async () => {
    const pre = await t.app.inject({ method: 'OPTIONS', url: '/targets/', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET' } })
    expect(pre.headers['access-control-allow-origin']).toBeUndefined()
    const c = await buildTestApp(engine, { CORS_ORIGINS: 'http://localhost:5173, https://ops.example' })
    try {
      const ok = await c.app.inject({ method: 'OPTIONS', url: '/targets/', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
      expect(ok.statusCode).toBe(204)
      expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173')
      expect(String(ok.headers['access-control-allow-headers'])).toContain('authorization')
      const other = await c.app.inject({ method: 'OPTIONS', url: '/targets/', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } })
      expect(other.headers['access-control-allow-origin']).toBeUndefined()
    } finally {
      await c.close()
    }
  })
})
