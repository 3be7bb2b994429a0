import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { intArrayLiteral, textArrayLiteral } from '../../src/db/arrays.js'
import type { PublicStatusOut, StatusPageOut } from '../../src/status-page/status-page.schema.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// Issue 14: public status pages per tag. Opt-in (404 until an admin publishes the tag, 404 again once
// unpublished, the same answer as for a tag nobody uses), admin-only writes, a public read without a
// token that shows the tag's targets only, with their API state, 90 daily uptime bars from the 1-hour
// tier and the incidents of the last 90 days. Samples, outages and incidents are written directly
// (nothing is probed; documentation addresses only); every expected figure is derived from the rows
// written here. Then the inputs that once reached a 500 elsewhere.

const DAY = 86_400_000
const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10)
const midnight = (t: number) => Math.floor(t / DAY) * DAY
const pct = (received: number, sent: number) => (sent > 0 ? Math.round((100_000 * received) / sent) / 1000 : null)

interface Echo {
  target: string
  time: Date
  rttUs: number | null
}

describe.each(ENGINES)('public status pages (%s engine)', (engine) => {
  let t: TestApp
  const ids: Record<string, number> = {}
  const echoes: Echo[] = []
  let today = 0

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers })
  const put = (tag: string, payload: unknown, headers = t.admin) => t.app.inject({ method: 'PUT', url: `/status-pages/${tag}`, headers, payload: payload as object })

  beforeAll(async () => {
    t = await buildTestApp(engine)
    const sql = t.db.sql
    const rows = await sql<{ id: number; address: string }[]>`
      insert into targets (address, name, tags, interval_s, enabled, notes, created_at)
      values ('192.0.2.10', 'edge-a', '{core}', 60, true, 'secret note: rack 4, console password on the door', now() - interval '100 days'),
             ('2001:db8::20', null, '{core,lab}', 60, true, null, now() - interval '100 days'),
             ('192.0.2.30', 'edge-c', '{core}', 60, false, null, now() - interval '100 days'),
             ('192.0.2.40', 'elsewhere', '{edge}', 60, true, null, now() - interval '100 days')
      returning id, address`
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) ids[name] = rows[i]!.id

    // Echoes, one a second from the given start: the window's first day begins exactly at midnight 89
    // days before today (UTC); the minute before it is outside.
    today = midnight(Date.now())
    const burst = (target: string, start: number, n: number, lost: (k: number) => boolean) => {
      for (let k = 0; k < n; k++) echoes.push({ target, time: new Date(start + k * 1000), rttUs: lost(k) ? null : 1000 + k })
    }
    burst('a', today - DAY + 12 * 3_600_000, 100, (k) => k < 3) // yesterday: 97 of 100
    burst('a', today - 10 * DAY + 12 * 3_600_000, 50, () => false) // 10 days ago: 50 of 50
    burst('a', today - 89 * DAY, 10, (k) => k % 2 === 1) // the first day, from its first second: 5 of 10
    burst('a', today - 89 * DAY - 60_000, 20, () => false) // the day before the window: not counted
    burst('b', today - 3 * DAY + 6 * 3_600_000, 40, (k) => k % 4 === 0) // 3 days ago: 30 of 40
    burst('b', Date.now() - 40_000, 36, () => false) // just now (answering: up): 36 of 36
    burst('d', today - DAY, 10, () => false) // another tag's target: never on the page
    await sql`
      insert into samples (time, target_id, seq, rtt_us, status)
      select * from unnest(${textArrayLiteral(echoes.map((e) => e.time.toISOString()))}::timestamptz[],
        ${intArrayLiteral(echoes.map((e) => ids[e.target]!))}::int[], ${intArrayLiteral(echoes.map(() => 0))}::smallint[],
        ${intArrayLiteral(echoes.map((e) => e.rttUs))}::int[], ${intArrayLiteral(echoes.map((e) => (e.rttUs === null ? 1 : 0)))}::smallint[])`
    // The older part materialised in both tiers, the newest days left to real-time aggregation: the bars
    // read both. (Procedures: one statement each, outside a transaction.)
    const from = new Date(today - 95 * DAY)
    const to = new Date(today - 5 * DAY)
    await sql`call refresh_continuous_aggregate('samples_1m', ${from}::timestamptz, ${to}::timestamptz)`
    await sql`call refresh_continuous_aggregate('samples_1h', ${from}::timestamptz, ${to}::timestamptz)`

    // a is down (an open outage), b answers (up), c is paused.
    await sql`insert into outages (target_id, started_at, lost_rounds, cause) values (${ids.a!}, now() - interval '2 hours', 120, 'timeout')`
    const incident = (rule: string, target: string, startedAgoS: number, endedAgoS: number | null) => sql`
      insert into incidents (rule_id, rule_name, condition, severity, target_id, target_address, target_name, started_at, fired_at, ended_at, end_reason, notes)
      values (null, ${rule}, 'outage', 'critical', ${ids[target]!}, 'x', 'stored name', now() - make_interval(secs => ${startedAgoS}),
        now() - make_interval(secs => ${startedAgoS}), ${endedAgoS === null ? null : sql`now() - make_interval(secs => ${endedAgoS})`},
        ${endedAgoS === null ? null : 'recovered'}, '[{"at": "2026-01-01T00:00:00Z", "by": "admin", "text": "private note"}]')
      returning id`
    const [[open], [recent], , [long], ,] = await Promise.all([
      incident('core outage', 'a', 7200, null),
      incident('core loss', 'b', 10 * 86_400 + 3600, 10 * 86_400),
      incident('too old', 'b', 92 * 86_400, 91 * 86_400),
      incident('long one', 'c', 100 * 86_400, 89 * 86_400),
      incident('other tag', 'd', 3600, null),
      incident('other tag closed', 'd', 7200, 3600),
    ])
    ids.openIncident = open!.id
    ids.recentIncident = recent!.id
    ids.longIncident = long!.id
  })
  afterAll(() => t?.close())

  it('is opt-in: 404 until published, the same 404 as for an unknown tag, 404 again once unpublished', async () => {
    for (const tag of ['core', 'no-such-tag']) {
      const res = await get(`/public/status/${tag}`)
      expect(res.statusCode, tag).toBe(404)
      expect(res.json()).toEqual({ detail: 'Status page not found' })
    }
    expect((await get('/status-pages', t.viewer)).json()).toEqual([])

    const created = await put('core', { title: 'Core network', description: 'Routers of the core.' })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ tag: 'core', title: 'Core network', description: 'Routers of the core.', targets: 3, url: '/status/core' })
    const changed = await put('core', { title: '  Core network status  ' })
    expect(changed.statusCode).toBe(200)
    expect(changed.json()).toMatchObject({ tag: 'core', title: 'Core network status', description: null, targets: 3 })
    expect((await put('core', { title: 'Core network', description: 'Routers of the core.' })).statusCode).toBe(200)

    const list = await get('/status-pages', t.viewer)
    expect(list.statusCode).toBe(200)
    expect(list.json<StatusPageOut[]>().map((p) => [p.tag, p.title, p.targets])).toEqual([['core', 'Core network', 3]])

    const pub = await get('/public/status/core')
    expect(pub.statusCode).toBe(200)
    expect(pub.headers['cache-control']).toBe('public, max-age=60')
    // A tag nobody publishes still answers as if absent, whether targets carry it (edge) or not.
    for (const tag of ['edge', 'lab', 'no-such-tag', 'Core']) expect((await get(`/public/status/${tag}`)).json(), tag).toEqual({ detail: 'Status page not found' })

    // Unpublished: gone, the targets stay.
    expect((await put('lab', { title: 'Lab' })).statusCode).toBe(201)
    expect((await get('/public/status/lab')).statusCode).toBe(200)
    const del = await t.app.inject({ method: 'DELETE', url: '/status-pages/lab', headers: t.admin })
    expect(del.json()).toEqual({ message: 'Status page deleted', tag: 'lab' })
    expect((await get('/public/status/lab')).json()).toEqual({ detail: 'Status page not found' })
    expect((await t.app.inject({ method: 'DELETE', url: '/status-pages/lab', headers: t.admin })).json()).toEqual({ detail: 'Status page not found' })
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from targets where 'lab' = any(tags)`
    expect(n!.n).toBe(1)
  })

  it('lets only admins write, and only signed-in users list', async () => {
    expect((await put('edge', { title: 'Edge' }, t.viewer)).statusCode).toBe(403)
    expect((await t.app.inject({ method: 'DELETE', url: '/status-pages/core', headers: t.viewer })).statusCode).toBe(403)
    expect((await put('edge', { title: 'Edge' }, {} as typeof t.admin)).statusCode).toBe(401)
    expect((await get('/status-pages')).statusCode).toBe(401)
    expect((await get('/public/status/edge')).statusCode).toBe(404)
    expect((await get('/public/status/core')).json<PublicStatusOut>().title).toBe('Core network')
  })

  it('shows the tag’s targets only, with their API state and nothing else about them', async () => {
    const res = await get('/public/status/core')
    const body = res.json<PublicStatusOut>()
    expect(body).toMatchObject({ tag: 'core', title: 'Core network', description: 'Routers of the core.', total_targets: 3, truncated: false })
    // Sorted by name (unnamed last): edge-a, edge-c, then b under its address.
    expect(body.targets.map((x) => [x.id, x.name, x.state])).toEqual([
      [ids.a, 'edge-a', 'down'],
      [ids.c, 'edge-c', 'paused'],
      [ids.b, '2001:db8::20', 'up'],
    ])
    expect(body.counts).toEqual({ up: 1, degraded: 0, down: 1, paused: 1, unknown: 0 })
    expect(body.state).toBe('down')
    // The state and its start are the API's, as GET /targets/{id} says.
    for (const x of body.targets) {
      const api = (await get(`/targets/${x.id}`, t.viewer)).json<{ state: string; state_since: string }>()
      expect([x.state, x.state_since]).toEqual([api.state, api.state_since])
    }
    for (const x of body.targets) expect(Object.keys(x).sort()).toEqual(['bars', 'id', 'name', 'state', 'state_since', 'uptime_pct'])
    for (const i of body.incidents) expect(Object.keys(i).sort()).toEqual(['ended_at', 'id', 'rule_name', 'started_at', 'state', 'target_id', 'target_name'])
    expect(Object.keys(body).sort()).toEqual(['counts', 'description', 'generated_at', 'incidents', 'state', 'tag', 'targets', 'title', 'total_targets', 'truncated'])
    // No notes, no address of a named target, nothing of the other tag's target, no incident notes.
    for (const secret of ['secret note', 'console password', '192.0.2.10', '192.0.2.40', 'elsewhere', 'private note', 'stored name', 'other tag']) expect(res.body).not.toContain(secret)
  })

  it('draws 90 daily uptime bars per target from the 1-hour tier, as the echoes written say', async () => {
    const body = (await get('/public/status/core')).json<PublicStatusOut>()
    const end = midnight(Date.parse(body.generated_at))
    const days = Array.from({ length: 90 }, (_, i) => utcDay(end - (89 - i) * DAY))
    for (const x of body.targets) {
      const name = Object.keys(ids).find((k) => ids[k] === x.id)!
      const mine = echoes.filter((e) => e.target === name)
      const expected = days.map((day) => {
        const on = mine.filter((e) => utcDay(e.time.getTime()) === day)
        const received = on.filter((e) => e.rttUs !== null).length
        return { day, sent: on.length, received, uptime_pct: on.length ? pct(received, on.length) : null }
      })
      expect(x.bars, name).toEqual(expected)
      const inWindow = mine.filter((e) => e.time.getTime() >= end - 89 * DAY)
      expect(x.uptime_pct, name).toBe(pct(inWindow.filter((e) => e.rttUs !== null).length, inWindow.length))
    }
    // The figures those rows give, spelled out for a (unless the run straddles midnight UTC):
    const a = body.targets.find((x) => x.id === ids.a)!
    if (end === today) {
      expect(a.bars[0]).toEqual({ day: utcDay(today - 89 * DAY), sent: 10, received: 5, uptime_pct: 50 })
      expect(a.bars[79]).toEqual({ day: utcDay(today - 10 * DAY), sent: 50, received: 50, uptime_pct: 100 })
      expect(a.bars[88]).toEqual({ day: utcDay(today - DAY), sent: 100, received: 97, uptime_pct: 97 })
      expect(a.bars.filter((b) => b.uptime_pct === null)).toHaveLength(87)
      expect(a.uptime_pct).toBe(Math.round((100_000 * 152) / 160) / 1000) // 95
      const c = body.targets.find((x) => x.id === ids.c)!
      expect([c.uptime_pct, c.bars.every((b) => b.sent === 0 && b.uptime_pct === null)]).toEqual([null, true])
    }
  })

  it('lists the incidents of those targets open or ended within 90 days, newest first', async () => {
    const body = (await get('/public/status/core')).json<PublicStatusOut>()
    expect(body.incidents.map((i) => [i.id, i.rule_name, i.target_id, i.target_name, i.state, i.ended_at === null])).toEqual([
      [ids.openIncident, 'core outage', ids.a, 'edge-a', 'open', true],
      [ids.recentIncident, 'core loss', ids.b, '2001:db8::20', 'resolved', false],
      [ids.longIncident, 'long one', ids.c, 'edge-c', 'resolved', false],
    ])
    const [row] = await t.db.sql<{ startedAt: Date; endedAt: Date }[]>`select started_at, ended_at from incidents where id = ${ids.recentIncident!}`
    expect([body.incidents[1]!.started_at, body.incidents[1]!.ended_at]).toEqual([row!.startedAt.toISOString(), row!.endedAt.toISOString()])
  })

  it(`lists at most 200 targets of a tag and says it left some out`, async () => {
    await t.db.sql`
      insert into targets (address, name, tags, enabled)
      select '198.51.100.' || g, 'bulk-' || lpad(g::text, 3, '0'), '{bulk}', false from generate_series(1, 205) g`
    expect((await put('bulk', { title: 'Bulk' })).statusCode).toBe(201)
    const t0 = performance.now()
    const body = (await get('/public/status/bulk')).json<PublicStatusOut>()
    console.log(`[${engine}] a page of 200 targets in ${Math.round(performance.now() - t0)} ms`)
    expect([body.total_targets, body.targets.length, body.truncated]).toEqual([205, 200, true])
    expect(body.targets.at(-1)!.name).toBe('bulk-200')
    expect(body.counts).toEqual({ up: 0, degraded: 0, down: 0, paused: 200, unknown: 0 })
    expect(body.state).toBe('paused')
    // A published tag without targets: nothing to show, state unknown.
    expect((await put('empty', { title: 'Nothing yet' })).statusCode).toBe(201)
    expect((await get('/public/status/empty')).json<PublicStatusOut>()).toMatchObject({ state: 'unknown', total_targets: 0, targets: [], incidents: [] })
  })

  it('takes any valid tag, a percent-encoded slash included', async () => {
    await t.db.sql`insert into targets (address, name, tags, enabled) values ('192.0.2.50', 'rack-1', '{site/paris.1}', false)`
    const res = await put('site%2Fparis.1', { title: 'Paris' })
    expect([res.statusCode, res.json<StatusPageOut>().tag, res.json<StatusPageOut>().url, res.json<StatusPageOut>().targets]).toEqual([201, 'site/paris.1', '/status/site%2Fparis.1', 1])
    const body = (await get('/public/status/site%2Fparis.1')).json<PublicStatusOut>()
    expect([body.tag, body.targets.map((x) => x.name), body.state]).toEqual(['site/paris.1', ['rack-1'], 'paused'])
    expect((await t.app.inject({ method: 'DELETE', url: '/status-pages/site%2Fparis.1', headers: t.admin })).statusCode).toBe(200)
  })

  it('answers bad input with a 422 naming the field', async () => {
    const cases: [string, unknown, string][] = [
      ['core', {}, 'body.title'],
      ['core', { title: '' }, 'body.title'],
      ['core', { title: '   ' }, 'body.title'],
      ['core', { title: 'x'.repeat(201) }, 'body.title'],
      ['core', { title: 'a\u0000b' }, 'body.title'],
      ['core', { title: 'a\ud800b' }, 'body.title'],
      ['core', { title: 7 }, 'body.title'],
      ['core', { title: 'ok', description: 'd'.repeat(2001) }, 'body.description'],
      ['core', { title: 'ok', description: 'x\udc00' }, 'body.description'],
      ['core', { title: 'ok', extra: true }, 'body'],
      ['a%20b', { title: 'ok' }, 'params.tag'],
      ['a%00b', { title: 'ok' }, 'params.tag'],
      ['x'.repeat(51), { title: 'ok' }, 'params.tag'],
      ['fe80%3A%3A1%25eth0', { title: 'ok' }, 'params.tag'],
    ]
    for (const [tag, payload, loc] of cases) {
      const res = await put(tag, payload)
      expect(res.statusCode, `${tag} ${JSON.stringify(payload).slice(0, 60)}`).toBe(422)
      const locs = res.json<{ detail: { loc: string[] }[] }>().detail.map((d) => d.loc.join('.'))
      expect(locs.some((l) => l === loc || (loc === 'body' && l.startsWith('body'))), `${tag} ${JSON.stringify(payload).slice(0, 60)}: ${locs.join(', ')}`).toBe(true)
    }
    // Nothing changed.
    expect((await get('/public/status/core')).json<PublicStatusOut>().title).toBe('Core network')
  })

  it('never answers a fuzzed tag, title or body with a 5xx, always with {detail}', { timeout: 120_000 }, async () => {
    const values = [
      '\u0000', 'a\u0000b', '\ud800', 'a\udc00b', '\udbff\udbff', '::1%lo', 'fe80::1%eth0', '[fe80::1%25eth0]', '0000-01-01T00:00:00Z',
      '10000-01-01T00:00:00Z', '2147483648', '9223372036854775808', '1e400', '-1', '../../etc/passwd', "core' or '1'='1", '%', '_', '\\', '🙂', 'x'.repeat(5000),
    ]
    const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'))
    const paths = [...values.map(enc), '%E0%A4%A', '%ED%A0%80', '%00', '9'.repeat(200)]
    const failures: string[] = []
    const check = (what: string, res: { statusCode: number; body: string; headers: Record<string, unknown> }) => {
      let ok = res.statusCode < 500
      if (res.statusCode >= 400) {
        try {
          ok &&= Object.keys(JSON.parse(res.body) as object).join() === 'detail'
        } catch {
          ok = false
        }
      }
      if (!ok) failures.push(`${what} → ${res.statusCode} ${res.body.slice(0, 200)}`)
    }
    for (const p of paths) {
      check(`GET public ${p.slice(0, 30)}`, await get(`/public/status/${p}`))
      check(`PUT ${p.slice(0, 30)}`, await put(p, { title: 'fuzz' }))
      check(`DELETE ${p.slice(0, 30)}`, await t.app.inject({ method: 'DELETE', url: `/status-pages/${p}`, headers: t.admin }))
    }
    const raws = [...values.map((v) => JSON.stringify(v)), '2147483648', '1e400', '-1e400', '[1e400]', 'null', '{"a":{"b":[1,[2]]}}', `"${'x'.repeat(1_000_000)}"`]
    for (const field of ['title', 'description']) {
      for (const raw of raws) {
        const payload = JSON.stringify({ title: 'fuzz', [field]: '\u0001' }).replace('"\\u0001"', raw)
        check(`PUT {${field}: ${raw.slice(0, 30)}}`, await t.app.inject({ method: 'PUT', url: '/status-pages/fuzz', headers: { ...t.admin, 'content-type': 'application/json' }, payload }))
      }
    }
    for (const payload of [`{"title":"${'y'.repeat(1024 * 1024)}"}`, `{"title":"${'y'.repeat(1000 * 1000)}"}`, 'z'.repeat(1000 * 1000), 'not json', '']) {
      const res = await t.app.inject({ method: 'PUT', url: '/status-pages/fuzz', headers: { ...t.admin, 'content-type': 'application/json' }, payload })
      check(`PUT with a ${payload.length}-byte body`, res)
      expect(res.statusCode).toBeGreaterThanOrEqual(400)
    }
    expect(failures).toEqual([])
    // Text that is valid is stored as given (the year-0000 text is only text here). The pages the fuzzer
    // published under valid tags (-1, 2147483648, _ …) it also deleted: the others are as they were.
    expect((await put('fuzz', { title: '0000-01-01T00:00:00Z', description: 'fe80::1%eth0 🙂' })).statusCode).toBe(200)
    expect((await get('/public/status/fuzz')).json<PublicStatusOut>()).toMatchObject({ title: '0000-01-01T00:00:00Z', description: 'fe80::1%eth0 🙂' })
    const pages = (await get('/status-pages', t.admin)).json<StatusPageOut[]>()
    expect(pages.map((p) => p.tag)).toEqual(['bulk', 'core', 'empty', 'fuzz'])
    for (const p of pages) expect((await get(`/public/status/${encodeURIComponent(p.tag)}`)).statusCode, p.tag).toBe(200)
  })
})
