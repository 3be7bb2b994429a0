import { createHmac, randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

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

/** Percent-encodes a value for a URL; a lone surrogate cannot be encoded (a client sends U+FFFD instead). */
const uri = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'))

/** An injected request whose failure to complete (a stream cut after its headers) is an answer too. */
async function answer(app: TestApp['app'], opts: InjectOptions): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }> {
  try {
    return await app.inject(opts)
  } catch (err) {
    return { statusCode: 599, headers: {}, body: `the response did not complete: ${(err as Error).message}` }
  }
}

/** Why an answer breaks the error contract (a 5xx, or a 4xx that is not `{"detail": …}`), or null. */
function detailProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }): string | null {
  if (res.statusCode >= 500) return 'a 5xx'
  if (res.statusCode < 400) return null
  if (!String(res.headers['content-type']).startsWith('application/json')) return `content-type ${String(res.headers['content-type'])}`
  let body: unknown
  try {
    body = JSON.parse(res.body)
  } catch {
    return 'not JSON'
  }
  const keys = body && typeof body === 'object' ? Object.keys(body) : []
  if (keys.length !== 1 || keys[0] !== 'detail') return 'not {"detail": …}'
  const detail = (body as { detail: unknown }).detail
  const fieldList = Array.isArray(detail) && detail.length > 0 && detail.every((d: { loc?: unknown; msg?: unknown }) => Array.isArray(d.loc) && typeof d.msg === 'string')
  return typeof detail === 'string' || fieldList ? null : 'detail is neither a string nor a list of {loc, msg}'
}

describe.each(ENGINES)('auth matrix and fuzzing over every route (%s engine)', (engine) => {
  let t: TestApp
  let routes: Route[]
  let secret: string
  let targetId: number
  // A remote probe agent's token: the only credential /probe/* takes (and all it takes).
  let probe: { authorization: string }
  const authFor = (path: string, other: { authorization: string }) => (path.startsWith('/probe/') ? probe : other)

  beforeAll(async () => {
    t = await buildTestApp(engine)
    const [row] = await t.db.sql<{ value: string }[]>`select value from app_settings where key = 'jwt_secret'`
    secret = row!.value
    const spec = t.app.swagger() as { paths: Record<string, Record<string, { security?: unknown[] }>> }
    routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase() as Method, path, public: Array.isArray(op.security) && op.security.length === 0 })),
    )
    const res = await t.app.inject({ method: 'POST', url: '/targets/', headers: t.admin, payload: { ip: '127.0.6.1' } })
    targetId = res.json<{ id: number }>().id
    const created = await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'fuzz agent', scope: 'probe', site: 'fuzz' } })
    probe = { authorization: `Bearer ${created.json<{ token: string }>().token}` }
  })
  afterAll(() => t?.close())

  const url = (r: Route) => r.path.replace('{id}', String(targetId)).replace('{file}', `${targetId}.svg`)

  it('knows the routes it protects', () => {
    expect(routes.length).toBeGreaterThanOrEqual(15)
    const open = routes.filter((r) => r.public).map((r) => `${r.method} ${r.path}`)
    expect(open.sort()).toEqual(['GET /badge/{file}', 'GET /health', 'GET /public/status/{tag}', 'POST /auth/login'].sort())
    expect(routes.map((r) => `${r.method} ${r.path}`)).toContain('GET /sites')
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

  // Issue 10, item 5: inputs a black-box run turned into 500s (PostgreSQL refusing NUL, a year 0, an int4
  // overflow; a TypeError on a zone id) and fastify's own refusals in their own shape. Each is a 4xx
  // {detail}; a 422 names the field.
  it('answers every input once found to cause a 500 with a 4xx {detail} naming the field', async () => {
    type Body = { payload: string | Buffer; headers: Record<string, string> }
    const json = (payload: unknown, auth = t.admin): Body => ({ payload: JSON.stringify(payload), headers: { ...auth, 'content-type': 'application/json' } })
    const gz = (payload: Buffer): Body => ({ payload, headers: { ...probe, 'content-type': 'application/json', 'content-encoding': 'gzip' } })
    const agent = { name: 'fuzz-agent', version: '1', hostname: 'h' }
    const row = { time: new Date().toISOString(), target_id: targetId, seq: 0, rtt_us: 1, ttl: 64, jitter_us: null, status: 0, reporter: null }
    const batch = (r: object) => ({ batch_id: randomUUID(), samples: [{ ...row, ...r }] })
    const cases: [Method, string, Body | null, number, string | null][] = [
      // issue 12: the agent's routes (a probe token), and the confinement of probe tokens
      ['POST', '/probe/heartbeat', json({ ...agent, name: 'a\u0000b' }, probe), 422, 'body.name'],
      ['POST', '/probe/heartbeat', json({ ...agent, hostname: 'h\ud800' }, probe), 422, 'body.hostname'],
      ['POST', '/probe/heartbeat', json({ ...agent, held: [2147483648] }, probe), 422, 'body.held.0'],
      ['POST', '/probe/heartbeat', json({ ...agent, session: { id: 1, started_at: '0000-01-01 00:00:00+00\u0000' } }, probe), 422, 'body.session.started_at'],
      ['POST', '/probe/samples', json(batch({ time: '0000-01-01T00:00:00Z' }), probe), 422, 'body.samples.0.time'],
      ['POST', '/probe/samples', json(batch({ reporter: 'fe80::1%eth0' }), probe), 422, 'body.samples.0.reporter'],
      ['POST', '/probe/samples', json(batch({ target_id: 2147483648 }), probe), 422, 'body.samples.0.target_id'],
      ['POST', '/probe/samples', gz(gzipSync(JSON.stringify(batch({ seq: '\u0000' })))), 422, 'body.samples.0.seq'],
      ['POST', '/probe/samples', gz(Buffer.from('not gzip')), 400, null],
      ['POST', '/probe/samples', gz(gzipSync(Buffer.alloc(64 * 1024 * 1024))), 413, null],
      ['POST', '/probe/samples', json({ batch_id: randomUUID(), samples: [] }), 403, null],
      ['POST', '/targets/', json({ ip: '127.0.6.2' }, probe), 403, null],
      ['POST', '/targets/', json({ ip: '127.0.6.2', name: 'a\u0000b' }), 422, 'body.name'],
      ['POST', '/targets/', json({ ip: '127.0.6.2', notes: 'a\u0000b' }), 422, 'body.notes'],
      ['POST', '/targets/', json({ ip: '127.0.6.2', name: 'a\ud800b' }), 422, 'body.name'],
      ['POST', '/targets/', json({ ip: '127.0.6.2', notes: 'x\udc00' }), 422, 'body.notes'],
      ['POST', '/targets/', json({ ip: '::1%lo' }), 422, 'body.ip'],
      ['POST', '/targets/', json({ ip: 'fe80::1%eth0' }), 422, 'body.ip'],
      ['PATCH', `/targets/${targetId}`, json({ name: '\u0000' }), 422, 'body.name'],
      ['PATCH', `/targets/${targetId}`, json({ notes: '\ud800' }), 422, 'body.notes'],
      ['POST', '/targets/', json({ ip: '127.0.6.2', sites: ['a\u0000b'] }), 422, 'body.sites.0'],
      ['POST', '/targets/', json({ ip: '127.0.6.2', sites: ['ok', '\udc00'] }), 422, 'body.sites.1'],
      ['POST', '/targets/', json({ ip: '127.0.6.2', sites: Array.from({ length: 100_000 }, () => 'a') }), 422, 'body.sites'],
      ['PATCH', `/targets/${targetId}`, json({ sites: ['\ud800'] }), 422, 'body.sites.0'],
      ['PATCH', `/targets/${targetId}`, json({ sites: Array.from({ length: 100_000 }, () => '\u0000') }), 422, 'body.sites'],
      ['POST', '/tokens', json({ name: 'ci\u0000' }), 422, 'body.name'],
      ['POST', '/tokens', json({ name: 'ci\ud800' }), 422, 'body.name'],
      ['POST', '/auth/login', json({ username: 'admin\u0000', password: 'x' }), 422, 'body.username'],
      ['POST', '/auth/login', json({ username: 'admin\udfff', password: 'x' }), 422, 'body.username'],
      ['GET', '/targets/?q=%00', null, 422, 'querystring.q'],
      ['GET', '/targets/?tag=%00', null, 422, 'querystring.tag'],
      ['GET', '/targets/?tag=a%00b&q=x', null, 422, 'querystring.tag'],
      ['GET', '/badge/2147483648.svg', null, 422, 'params.file'],
      ['GET', '/badge/9999999999.svg', null, 422, 'params.file'],
      ['GET', `/targets/${targetId}/insights?from=0000-01-01T00:00:00Z`, null, 422, 'querystring.from'],
      ['GET', `/targets/${targetId}/insights?to=0000-01-01T00:00:00Z`, null, 422, 'querystring.to'],
      ['GET', `/targets/${targetId}/logs/export?from=0000-01-01T00:00:00Z`, null, 422, 'querystring.from'],
      ['GET', `/targets/${targetId}/logs/export?to=0000-01-01T00:00:00Z`, null, 422, 'querystring.to'],
      ['GET', '/targets/2147483648', null, 422, 'params.id'],
      ['GET', '/targets/9223372036854775808/insights', null, 422, 'params.id'],
      ['DELETE', `/tokens/1e400`, null, 422, 'params.id'],
      ['PATCH', '/users/2147483648', json({ role: 'viewer' }), 422, 'params.id'],
      ['GET', '/targets/%E0%A4%A', null, 400, null],
      ['DELETE', `/tokens/${'9'.repeat(200)}`, null, 414, null],
    ]
    const failures: string[] = []
    for (const [method, url, body, status, loc] of cases) {
      const res = await answer(t.app, { method, url, ...(body ?? { headers: t.admin }) })
      const problem = detailProblem(res)
      const detail = problem || res.statusCode < 400 ? null : (JSON.parse(res.body) as { detail: string | { loc: string[] }[] }).detail
      const locs = Array.isArray(detail) ? detail.map((d) => d.loc.join('.')) : []
      if (res.statusCode !== status || problem || (loc && !locs.includes(loc))) failures.push(`${method} ${url} ${String(body?.payload ?? '').slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`)
    }
    expect(failures).toEqual([])
    // 60,000 bad elements (under the list's limit): the 422 names the first 50 and counts the rest,
    // instead of answering a 700 KB body with a 5 MB one.
    const many = await t.app.inject({ method: 'POST', url: '/probe/heartbeat', ...json({ ...agent, held: Array.from({ length: 60_000 }, () => 2147483648) }, probe) })
    const problems = many.json<{ detail: { loc: (string | number)[]; msg: string }[] }>().detail
    expect(many.statusCode).toBe(422)
    expect(problems).toHaveLength(51)
    expect(problems.slice(0, 50).map((d) => d.loc.join('.'))).toEqual(Array.from({ length: 50 }, (_, i) => `body.held.${i}`))
    expect(many.body.length).toBeLessThan(20_000)
    expect(problems[50]).toEqual({ loc: ['body'], msg: expect.stringMatching(/^and \d+ more problems not listed$/) })
    expect((await t.app.inject({ url: '/targets/%E0%A4%A', headers: t.admin })).json()).toEqual({ detail: 'The URL is malformed (invalid percent-encoding)' })
    expect((await t.app.inject({ method: 'DELETE', url: `/tokens/${'9'.repeat(101)}`, headers: t.admin })).json()).toEqual({ detail: 'A path segment is too long (at most 100 characters)' })
  })

  // The same inputs, and 1 MB bodies, on every field of every route the OpenAPI document declares (query
  // parameters, path parameters and JSON body properties, one field at a time on an otherwise valid
  // request, so that the value reaches the database if the schema lets it through).
  it('sends NUL, lone surrogates, zone ids, huge ids, year 0000 and 1 MB bodies to every field of every route without a 5xx', { timeout: 300_000 }, async () => {
    const spec = t.app.swagger() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>>
    }
    // A user, a token and a target of the fuzzer's own: it may change or delete them.
    const userRes = await t.app.inject({ method: 'POST', url: '/users', headers: t.admin, payload: { username: 'fuzz-user', password: 'fuzz-password-1' } })
    const userId = userRes.json<{ id: number }>().id
    const tokenId = (await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'fuzz' } })).json<{ id: number }>().id
    const fuzzTarget = (await t.app.inject({ method: 'POST', url: '/targets/', headers: t.admin, payload: { ip: '127.0.6.3' } })).json<{ id: number }>().id
    // Alerting's own: a channel, a rule, a silence and an incident (incidents come from the evaluator alone).
    const fuzzChannel = (await t.app.inject({ method: 'POST', url: '/alerts/channels', headers: t.admin, payload: { name: 'fuzz', kind: 'webhook', config: { url: 'http://127.0.0.1:1/' } } })).json<{ id: number }>().id
    const rule = (n: number) => ({ name: `fuzz rule ${n}`, scope: 'target', target_id: fuzzTarget, condition: 'loss', threshold: 5, channel_ids: [fuzzChannel] })
    const fuzzRule = (await t.app.inject({ method: 'POST', url: '/alerts/rules', headers: t.admin, payload: rule(0) })).json<{ id: number }>().id
    const silence = () => ({ target_id: fuzzTarget, ends_at: new Date(Date.now() + 3600_000).toISOString(), reason: 'fuzz' })
    const fuzzSilence = (await t.app.inject({ method: 'POST', url: '/alerts/silences', headers: t.admin, payload: silence() })).json<{ id: number }>().id
    const [incident] = await t.db.sql<{ id: number }[]>`
      insert into incidents (rule_id, rule_name, condition, severity, target_id, target_address, started_at, fired_at)
      values (${fuzzRule}, 'fuzz rule 0', 'loss', 'warning', ${fuzzTarget}, '127.0.6.3', now(), now()) returning id`
    expect([fuzzChannel, fuzzRule, fuzzSilence, incident!.id].every((id) => id > 0)).toBe(true)
    let nextIp = 1
    // A valid body per write, so that only the fuzzed field is wrong.
    const validBody = (method: string, path: string): Record<string, unknown> =>
      method === 'POST' && path === '/targets/' ? { ip: `127.0.7.${nextIp++ % 250}` }
        : method === 'POST' && path === '/users' ? { username: `fuzz-${nextIp++}`, password: 'fuzz-password-1' }
          : method === 'POST' && path === '/tokens' ? { name: 'fuzz' }
            : method === 'POST' && path === '/auth/login' ? { username: 'nobody', password: 'x' }
              : method === 'POST' && path === '/alerts/rules' ? rule(nextIp++)
                : method === 'POST' && path === '/alerts/channels' ? { name: `fuzz ${nextIp++}`, kind: 'slack', config: { url: 'http://127.0.0.1:1/' } }
                  : method === 'POST' && path === '/alerts/silences' ? silence()
                    : method === 'POST' && path === '/incidents/{id}/notes' ? { text: 'fuzz' }
                    : method === 'POST' && path === '/probe/heartbeat' ? { name: 'fuzz-agent', version: '1', hostname: 'fuzz' }
                    : method === 'POST' && path === '/probe/samples' ? { batch_id: randomUUID(), samples: [] }
                    : method === 'POST' && path === '/probe/leave' ? { session: { id: 1, started_at: '2026-01-01 00:00:00+00' } }
                      : method === 'PUT' && path === '/targets/{id}/traceroute-schedule' ? { interval_s: 3600 }
                        : method === 'PUT' && path === '/status-pages/{tag}' ? { title: 'fuzz' }
                        : {}
    // A valid query string where a route requires one, so that only the fuzzed path parameter is wrong.
    const validQuery = (path: string) => (path === '/targets/{id}/path-diff' ? '?a=1&b=2' : '')
    const idFor = (path: string) =>
      path.startsWith('/users/') ? userId
        : path.startsWith('/tokens/') ? tokenId
          : path.includes('/traceroute') ? 999999
            : path.startsWith('/alerts/rules/') ? fuzzRule
              : path.startsWith('/alerts/channels/') ? fuzzChannel
                : path.startsWith('/alerts/silences/') ? fuzzSilence
                  : path.startsWith('/incidents/') ? incident!.id
                    : fuzzTarget
    const strings = [
      '\u0000', 'a\u0000b', '\ud800', 'a\udc00b', '\udbff\udbff', '::1%lo', 'fe80::1%eth0', '[fe80::1%25eth0]', '0000-01-01T00:00:00Z',
      '0000-12-31T23:59:59+01:00', '10000-01-01T00:00:00Z', '2147483648', '9223372036854775808', '1e400', '-1', '010.0.0.1', '1.2.3', '0x7f.1', '999.1.1.1',
    ]
    // JSON body values written as raw JSON (1e400 does not survive JSON.stringify).
    // Arrays too (tags, sites, channel_ids): bad elements, and 100,000 of them in a body under the limit.
    const rawValues = [
      ...strings.map((s) => JSON.stringify(s)), '2147483648', '9223372036854775808', '1e400', '-1e400', '[1e400]', `"${'x'.repeat(1_000_000)}"`,
      JSON.stringify(['\u0000']), JSON.stringify(['a', '\ud800']), JSON.stringify(Array(100_000).fill('\u0000')), JSON.stringify(Array(100_000).fill(1)),
    ]
    // Path values as sent (the ones fastify refuses before routing: malformed percent-encoding, over 100 characters).
    const pathValues = [...strings.map(uri), '%E0%A4%A', '%ED%A0%80', '9'.repeat(200), '0', '2147483647']
    const failures: string[] = []
    let requests = 0
    const send = async (what: string, opts: { method: Method; url: string; payload?: string; headers?: Record<string, string> }, field: string | null) => {
      requests++
      const auth = authFor(opts.url, t.admin)
      const res = await answer(t.app, { ...opts, headers: { ...auth, ...(opts.payload !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers } })
      const problem = detailProblem(res) ?? (res.statusCode === 422 && field && !res.body.includes(`"${field}"`) ? `the detail does not name ${field}` : null)
      if (problem) failures.push(`${what} → ${res.statusCode} ${problem}: ${res.body.slice(0, 200)}`)
    }
    const ops = Object.entries(spec.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([m, op]) => ({ path, method: m.toUpperCase() as Method, op })))
    // Deletes last: the fuzzer's own target, user and token must live through the other routes.
    ops.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'))
    for (const { path, method, op } of ops) {
      if (path === '/live' && method === 'GET') {
        // An endless stream once authenticated: only its token parameter, without a bearer header.
        for (const v of strings) {
          const res = await answer(t.app, { method, url: `/live?access_token=${uri(v)}` })
          if (res.statusCode !== 401 || detailProblem(res)) failures.push(`GET /live?access_token=${JSON.stringify(v)} → ${res.statusCode} ${res.body.slice(0, 200)}`)
        }
        continue
      }
      const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      const bodyFields = Object.keys(op.requestBody?.content['application/json']?.schema.properties ?? {})
      const hasBody = method !== 'GET' && method !== 'DELETE'
      const fill = (p: string, value?: string) => params.reduce((u, name) => u.replace(`{${name}}`, value ?? (name === 'file' ? `${idFor(p)}.svg` : String(idFor(p)))), p)
      const body = () => (hasBody ? { payload: JSON.stringify(validBody(method, path)) } : {})
      for (const name of params) {
        for (const v of pathValues) {
          const value = name === 'file' ? `${v}.svg` : v
          await send(`${method} ${path} ${name}=${value.slice(0, 40)}`, { method, url: fill(path, value) + validQuery(path), ...body() }, name)
        }
      }
      for (const name of query) {
        for (const v of strings) {
          await send(`${method} ${path}?${name}=${JSON.stringify(v)}`, { method, url: `${fill(path)}?${name}=${uri(v)}`, ...body() }, name)
        }
      }
      for (const name of bodyFields) {
        for (const raw of rawValues) {
          const payload = JSON.stringify({ ...validBody(method, path), [name]: '\u0001' }).replace('"\\u0001"', raw)
          await send(`${method} ${path} {${name}: ${raw.slice(0, 40)}}`, { method, url: fill(path), payload }, raw.length > 1000 ? null : name)
        }
      }
      // 1 MB bodies on every route: over the limit (413), and just under it as JSON and as text.
      for (const payload of [`{"x":"${'y'.repeat(1024 * 1024)}"}`, `{"x":"${'y'.repeat(1000 * 1000)}"}`, 'z'.repeat(1000 * 1000)]) {
        await send(`${method} ${path} with a ${payload.length}-byte body`, { method, url: fill(path), payload }, null)
      }
    }
    expect(failures).toEqual([])
    expect(requests).toBeGreaterThan(1000)
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
      'a\u0000b', '\ud800', '::1%lo', 'fe80::1%eth0', '9223372036854775808', '1e400', '0000-01-01T00:00:00Z', '010.0.0.1', '1.2.3',
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
    const fields = [
      'ip', 'frequency', 'url', 'notes', 'name', 'tags', 'packets', 'timeout_ms', 'badge_public', 'username', 'password', 'role', 'disabled', 'name', 'expires_in_days', 'limit', 'from', 'to', 'window_minutes', 'bucket_seconds', 'max_hops', 'timeout', 'tag', 'state', 'q', 'offset', 'sort',
      'scope', 'target_id', 'condition', 'threshold', 'window_s', 'for_s', 'recover_s', 'severity', 'muted', 'channel_ids', 'kind', 'config', 'enabled', 'starts_at', 'ends_at', 'reason', 'text', 'rule_id', 'acknowledged',
      'sites', 'site',
    ]
    const statuses = new Map<number, number>()
    const failures: string[] = []
    // /live is an endless event stream: the auth matrix covers it, the fuzzer would wait on it forever
    const fuzzable = routes.filter((r) => r.path !== '/live')
    for (let i = 0; i < 3000; i++) {
      const r = pick(fuzzable)
      // mangle the path parameters and sometimes the path itself
      const path = r.path
        .replace('{id}', rnd() < 0.3 ? String(targetId) : uri(String(pick(nasty))))
        .replace('{file}', uri(String(pick(nasty))))
      const query = Array.from({ length: Math.floor(rnd() * 4) }, () => `${pick(fields)}=${uri(String(values()))}`).join('&')
      const body = Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [pick(fields), values()]))
      const raw = pick([JSON.stringify(body), JSON.stringify(body), '{"ip":', 'not json', JSON.stringify(values()), ''])
      const method = rnd() < 0.9 ? r.method : pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT'] as const)
      // never a real traceroute from the fuzzer: its target is loopback, but it would only be slow
      const safePath = path.includes('/traceroute') ? path.replace(/\/targets\/[^/]*\//, '/targets/999999/') : path
      const res = await answer(t.app, {
        method,
        url: `${safePath}${query ? `?${query}` : ''}`,
        headers: { ...authFor(safePath, rnd() < 0.85 ? t.admin : t.viewer), 'content-type': pick(['application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded']) },
        ...(method === 'GET' || method === 'DELETE' ? {} : { payload: raw }),
      })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode >= 500 || detailProblem(res)) failures.push(`${method} ${safePath}?${query} ${raw.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`)
    }
    console.log('fuzz statuses:', Object.fromEntries([...statuses].sort()))
    expect(failures).toEqual([])
    expect(statuses.get(422) ?? 0).toBeGreaterThan(100) // it really reached validation
  })
})
