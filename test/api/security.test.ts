import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApp, buildTestApp } from '../helpers/app.js'

// Every route the app declares (read from its own OpenAPI document, so new routes are covered without
// touching this file), against every way a bearer token can be wrong; then thousands of malformed
// requests, none of which may produce a 5xx.

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT'
interface Route {
  method: Method
  path: string
  public: boolean
}

const b64 = (o: object | string) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url')
function jwt(header: object, payload: object, secret: string | null): string {
  const head = `${b64(header)}.${b64(payload)}`
  return `${head}.${secret === null ? '' : createHmac('sha256', secret).update(head).digest('base64url')}`
}

// Writes a viewer may do: log in, and manage API tokens of their own (which carry only viewer rights).
const VIEWER_MAY_WRITE = new Set(['POST /auth/login', 'POST /tokens', 'DELETE /tokens/{id}'])

describe('auth matrix and fuzzing over every route', () => {
  let t: TestApp
  let routes: Route[]
  let secret: string
  let targetId: number

  beforeAll(async () => {
    t = await buildTestApp()
    const [row] = await t.db.sql<{ value: string }[]>`select value from app_settings where key = 'jwt_secret'`
    secret = row!.value
    const spec = t.app.swagger() as { paths: Record<string, Record<string, { security?: unknown[] }>> }
    routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase() as Method, path, public: Array.isArray(op.security) && op.security.length === 0 })),
    )
    const res = await t.app.inject({ method: 'POST', url: '/targets/', headers: t.admin, payload: { ip: '127.0.6.1' } })
    targetId = res.json<{ id: number }>().id
  })
  afterAll(() => t?.close())

  const url = (r: Route) => r.path.replace('{id}', String(targetId)).replace('{file}', `${targetId}.svg`)

  it('knows the routes it protects', () => {
    expect(routes.length).toBeGreaterThanOrEqual(15)
    const open = routes.filter((r) => r.public).map((r) => `${r.method} ${r.path}`)
    expect(open.sort()).toEqual(['GET /badge/{file}', 'GET /health', 'POST /auth/login'].sort())
  })

  it('answers 401 on every protected route without a token, or with an expired, forged, unsigned or exp-less one', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: 'admin', uid: 1, role: 'admin' }
    const bad: [string, Record<string, string>][] = [
      ['none', {}],
      ['basic', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
      ['garbage', { authorization: 'Bearer abc.def.ghi' }],
      ['expired', { authorization: `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 7200, exp: now - 3600 }, secret)}` }],
      ['forged', { authorization: `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now + 3600 }, 'not-the-secret')}` }],
      ['alg none', { authorization: `Bearer ${jwt({ alg: 'none', typ: 'JWT' }, { ...claims, exp: now + 3600 }, null)}` }],
      ['no exp', { authorization: `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, claims, secret)}` }],
      ['unknown api token', { authorization: 'Bearer pst_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }],
    ]
    // the well-formed expired and exp-less tokens are otherwise valid: the same claims signed properly pass
    const good = `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now + 3600 }, secret)}`
    expect((await t.app.inject({ url: '/auth/me', headers: { authorization: good } })).statusCode).toBe(200)
    for (const r of routes.filter((x) => !x.public)) {
      for (const [name, headers] of bad) {
        const res = await t.app.inject({ method: r.method, url: url(r), headers, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }) })
        expect(res.statusCode, `${r.method} ${r.path} with ${name}`).toBe(401)
        expect(res.json().detail, `${r.method} ${r.path} with ${name}`).toMatch(/^(Missing credentials|Invalid token)$/)
      }
    }
  })

  it('answers 403 to a viewer on every write', async () => {
    const writes = routes.filter((r) => !r.public && r.method !== 'GET' && !VIEWER_MAY_WRITE.has(`${r.method} ${r.path}`))
    expect(writes.length).toBeGreaterThanOrEqual(6)
    for (const r of writes) {
      const res = await t.app.inject({ method: r.method, url: url(r), headers: t.viewer, ...(r.method === 'DELETE' ? {} : { payload: {} }) })
      expect(res.statusCode, `${r.method} ${r.path}`).toBe(403)
    }
    // and nothing changed
    const [row] = await t.db.sql`select enabled from targets where id = ${targetId}`
    expect(row!.enabled).toBe(true)
  })

  it('survives thousands of malformed requests without a single 5xx', { timeout: 120_000 }, async () => {
    let seed = 20261123
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
    const nasty = [
      '', ' ', '0', '-1', '1e309', 'NaN', 'null', 'true', '[]', '{}', '%00', '\u0000', '🙂', 'é', '../../etc/passwd', "1' or '1'='1",
      '1;drop table targets', '<script>', 'x'.repeat(5000), '2147483648', '9'.repeat(40), '-0', '0x10', ' 1', '1 ', '::', '::1', '127.0.0.1',
      '999.999.999.999', '2001:db8::zz', 'localhost', 'a..b', '2026-13-45', '2026-11-23T00:00:00Z', '%', '_', '\\',
    ]
    const values = (): unknown =>
      pick([
        () => pick(nasty),
        () => Math.floor(rnd() * 1e6) - 5e5,
        () => rnd() * 1e12,
        () => null,
        () => rnd() > 0.5,
        () => [pick(nasty), 1, null],
        () => ({ [pick(nasty)]: pick(nasty) }),
        () => ({ a: { b: { c: { d: [1, [2, [3, [4]]]] } } } }),
      ])()
    const fields = ['ip', 'frequency', 'url', 'notes', 'name', 'tags', 'packets', 'timeout_ms', 'badge_public', 'username', 'password', 'role', 'disabled', 'name', 'expires_in_days', 'limit', 'from', 'to', 'window_minutes', 'bucket_seconds', 'max_hops', 'timeout', 'tag', 'state', 'q', 'offset', 'sort']
    const statuses = new Map<number, number>()
    const failures: string[] = []
    // /live is an endless event stream: the auth matrix covers it, the fuzzer would wait on it forever
    const fuzzable = routes.filter((r) => r.path !== '/live')
    for (let i = 0; i < 3000; i++) {
      const r = pick(fuzzable)
      // mangle the path parameters and sometimes the path itself
      const path = r.path
        .replace('{id}', rnd() < 0.3 ? String(targetId) : encodeURIComponent(String(pick(nasty))))
        .replace('{file}', encodeURIComponent(String(pick(nasty))))
      const query = Array.from({ length: Math.floor(rnd() * 4) }, () => `${pick(fields)}=${encodeURIComponent(String(values()))}`).join('&')
      const body = Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [pick(fields), values()]))
      const raw = pick([JSON.stringify(body), JSON.stringify(body), '{"ip":', 'not json', JSON.stringify(values()), ''])
      const method = rnd() < 0.9 ? r.method : pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT'] as const)
      // never a real traceroute from the fuzzer: its target is loopback, but it would only be slow
      const safePath = path.includes('/traceroute') ? path.replace(/\/targets\/[^/]*\//, '/targets/999999/') : path
      const res = await t.app.inject({
        method,
        url: `${safePath}${query ? `?${query}` : ''}`,
        headers: { ...(rnd() < 0.85 ? t.admin : t.viewer), 'content-type': pick(['application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded']) },
        ...(method === 'GET' || method === 'DELETE' ? {} : { payload: raw }),
      })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode >= 500) failures.push(`${method} ${safePath}?${query} ${raw.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`)
    }
    console.log('fuzz statuses:', Object.fromEntries([...statuses].sort()))
    expect(failures).toEqual([])
    expect(statuses.get(422) ?? 0).toBeGreaterThan(100) // it really reached validation
  })
})
