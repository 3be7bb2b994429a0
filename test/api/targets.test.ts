import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// The predecessor's target contract (paths, fields, messages), with its defects fixed.
describe.each(ENGINES)('targets API (%s engine)', (engine) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp(engine)
  })
  afterAll(() => t?.close())

  const post = (payload: unknown, headers = t.admin) => t.app.inject({ method: 'POST', url: '/targets/', headers, payload: payload as object })

  it('creates targets with normalised addresses and refuses duplicates with 409', async () => {
    const a = await post({ ip: '127.0.0.50' })
    expect(a.statusCode).toBe(200)
    expect(a.json()).toEqual({ message: 'Started tracking 127.0.0.50', id: expect.any(Number) })
    const v6 = await post({ ip: '2001:DB8:0:0::1', frequency: 5, url: ' https://router.example ', notes: '   ', tags: ['core', 'lab'] })
    expect(v6.json().message).toBe('Started tracking 2001:db8::1')
    const dup = await post({ ip: '2001:db8::1' })
    expect(dup.statusCode).toBe(409)
    expect(dup.json()).toEqual({ detail: 'IP already monitored' })
    const host = await post({ ip: 'localhost' })
    expect(host.statusCode).toBe(200)
    expect(host.json().message).toMatch(/^Started tracking (127\.0\.0\.1|::1) \(resolved from localhost\)$|/)
    const list = await t.app.inject({ url: '/targets/', headers: t.viewer })
    expect(list.statusCode).toBe(200)
    const v6row = list.json().find((r: { ip: string }) => r.ip === '2001:db8::1')
    expect(v6row).toMatchObject({
      frequency: 5,
      is_active: true,
      url: 'https://router.example/',
      notes: null,
      tags: ['core', 'lab'],
      packets: 1,
      timeout_ms: 1000,
      state: 'unknown',
      last_sample: null,
    })
    expect(v6row.created_at).toMatch(/Z$/)
    // also without the trailing slash, and no redirect
    const noSlash = await t.app.inject({ url: '/targets', headers: t.viewer })
    expect(noSlash.statusCode).toBe(200)
  })

  it('names the field in every validation error and never answers 500', async () => {
    const cases: [unknown, string][] = [
      [{ ip: 'not-an-ip!' }, 'ip'],
      [{ ip: '999.1.1.1' }, 'ip'],
      [{ ip: '127.0.0.9', frequency: 0 }, 'frequency'],
      [{ ip: '127.0.0.9', frequency: 3601 }, 'frequency'],
      [{ ip: '127.0.0.9', url: 'ftp://x' }, 'url'],
      [{ ip: '127.0.0.9', notes: 'x'.repeat(2001) }, 'notes'],
      [{ ip: '127.0.0.9', packets: 21 }, 'packets'],
      [{}, 'ip'],
    ]
    for (const [payload, field] of cases) {
      const res = await post(payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(422)
      expect(JSON.stringify(res.json().detail), JSON.stringify(payload)).toContain(field)
    }
    const junk = await t.app.inject({ method: 'POST', url: '/targets/', headers: { ...t.admin, 'content-type': 'application/json' }, payload: '{"ip": ' })
    expect(junk.statusCode).toBe(400)
    expect(junk.json().detail).toEqual(expect.any(String))
  })

  // Issue 10, item 6: only dotted-quad decimal is an IPv4 literal; anything else numeric-looking was handed to
  // the resolver, which reads it the BSD way (010.0.0.1 → 8.0.0.1, 1.2.3 → 1.2.0.3). Addresses that are not
  // one host, and scoped (zone id) addresses, are refused with the reason.
  it('accepts IPv4 only as four decimal numbers and refuses special and scoped addresses with a 422 on ip', async () => {
    const refused: [string, RegExp][] = [
      ['010.0.0.1', /not a valid IPv4 address: use four decimal numbers 0–255 without leading zeros/],
      ['1.2.3', /not a valid IPv4 address/],
      ['127.0.0', /not a valid IPv4 address/],
      ['999.1.1.1', /not a valid IPv4 address/],
      ['1.2.3.4.5', /not a valid IPv4 address/],
      ['127.0.0.01', /not a valid IPv4 address/],
      ['0x7f.1', /not a valid IPv4 address/],
      ['0x7f000001', /not a valid IPv4 address/],
      ['2130706433', /not a valid IPv4 address/],
      ['0.0.0.0', /unspecified address/],
      ['::', /unspecified address/],
      ['::ffff:0.0.0.0', /unspecified address/],
      ['255.255.255.255', /broadcast address/],
      ['224.0.0.1', /multicast address/],
      ['239.255.255.250', /multicast address/],
      ['ff02::1', /multicast address/],
      ['FF05::1:3', /multicast address/],
      ['::1%lo', /zone id/],
      ['fe80::1%eth0', /zone id/],
      ['[fe80::1%eth0]', /zone id/],
    ]
    for (const [ip, msg] of refused) {
      const res = await post({ ip })
      expect(res.statusCode, ip).toBe(422)
      const [problem] = res.json<{ detail: { loc: string[]; msg: string }[] }>().detail
      expect(problem!.loc, ip).toEqual(['body', 'ip'])
      expect(problem!.msg, ip).toMatch(msg)
    }
    for (const [ip, stored] of [['192.0.2.1', '192.0.2.1'], ['223.255.255.254', '223.255.255.254'], ['[2001:DB8::7]', '2001:db8::7'], ['::ffff:192.0.2.9', '192.0.2.9']]) {
      const res = await post({ ip })
      expect(res.statusCode, ip).toBe(200)
      expect(res.json().message, ip).toBe(`Started tracking ${stored}`)
    }
    const [row] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from targets where address in ('8.0.0.1', '1.2.0.3', '127.0.0.0', '0.0.0.0')`
    expect(row!.n).toBe(0)
  })

  it('updates, pauses, resumes and deletes, recording events with the acting user', async () => {
    const { id } = (await post({ ip: '127.0.0.2', frequency: 2 })).json()
    const patched = await t.app.inject({ method: 'PATCH', url: `/targets/${id}`, headers: t.admin, payload: { frequency: 10, notes: 'edge router' } })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ id, frequency: 10, notes: 'edge router' })
    const extra = await t.app.inject({ method: 'PATCH', url: `/targets/${id}`, headers: t.admin, payload: { ip: '1.2.3.4' } })
    expect(extra.statusCode).toBe(422) // the address is not editable
    const same = await t.app.inject({ method: 'PATCH', url: `/targets/${id}`, headers: t.admin, payload: { frequency: null } })
    expect(same.json().frequency).toBe(10)

    for (const url of [`/targets/${id}/pause`, `/targets/${id}/pause`, `/targets/${id}/resume`, `/targets/${id}/resume`]) {
      expect((await t.app.inject({ method: 'POST', url, headers: t.admin })).statusCode).toBe(200)
    }
    const events = await t.db.sql`select type, actor, message from events where target_id = ${id} order by id`
    // pausing twice or resuming twice records one event each (the predecessor logged duplicates)
    expect(events.map((e) => e.type)).toEqual(['created', 'updated', 'stop', 'start'])
    expect(events.every((e) => e.actor === 'admin')).toBe(true)
    expect(events[1]!.message).toBe('Updated interval_s, notes')

    const del = await t.app.inject({ method: 'DELETE', url: `/targets/${id}`, headers: t.admin })
    expect(del.json()).toEqual({ message: 'Target deleted', id })
    expect((await t.app.inject({ method: 'DELETE', url: `/targets/${id}`, headers: t.admin })).statusCode).toBe(404)
  })

  it('answers 404 {"detail": "Target not found"} for unknown ids and 403 to viewers on writes', async () => {
    for (const [method, url] of [
      ['GET', '/targets/999999'],
      ['PATCH', '/targets/999999'],
      ['DELETE', '/targets/999999'],
      ['POST', '/targets/999999/pause'],
      ['POST', '/targets/999999/resume'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: t.admin, ...(method === 'PATCH' ? { payload: {} } : {}) })
      expect(res.statusCode, `${method} ${url}`).toBe(404)
      expect(res.json()).toEqual({ detail: 'Target not found' })
    }
    const { id } = (await post({ ip: '127.0.0.3' })).json()
    for (const [method, url] of [
      ['POST', '/targets/'],
      ['PATCH', `/targets/${id}`],
      ['DELETE', `/targets/${id}`],
      ['POST', `/targets/${id}/pause`],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: t.viewer, payload: { ip: '127.0.0.4' } })
      expect(res.statusCode, `${method} ${url}`).toBe(403)
    }
    const bad = await t.app.inject({ url: '/targets/abc', headers: t.admin })
    expect(bad.statusCode).toBe(422)
  })

  it('filters by tag, state and text, pages and counts', async () => {
    for (let i = 10; i < 20; i++) await post({ ip: `127.0.0.${i}`, tags: i % 2 ? ['odd'] : ['even'], name: `host-${i}` })
    const odd = await t.app.inject({ url: '/targets/?tag=odd', headers: t.viewer })
    expect(odd.json()).toHaveLength(5)
    const page = await t.app.inject({ url: '/targets/?tag=even&limit=2&offset=2&sort=ip', headers: t.viewer })
    expect(page.json().map((r: { ip: string }) => r.ip)).toEqual(['127.0.0.14', '127.0.0.16'])
    expect(page.headers['x-total-count']).toBe('5')
    const text = await t.app.inject({ url: '/targets/?q=host-1_', headers: t.viewer })
    expect(text.json()).toHaveLength(0) // _ is literal, not a wildcard
    const [first] = (await t.app.inject({ url: '/targets/?q=host-13', headers: t.viewer })).json()
    await t.app.inject({ method: 'POST', url: `/targets/${first.id}/pause`, headers: t.admin })
    const paused = await t.app.inject({ url: '/targets/?state=paused', headers: t.viewer })
    expect(paused.json().map((r: { id: number }) => r.id)).toEqual([first.id])
  })
})
