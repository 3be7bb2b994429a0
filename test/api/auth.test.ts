import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, type TestApp, buildTestApp } from '../helpers/app.js'

describe('auth API', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
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
    const c = await buildTestApp({ CORS_ORIGINS: 'http://localhost:5173, https://ops.example' })
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
