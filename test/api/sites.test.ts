import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureSite } from '../../src/sites/sites.repo.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// Issue 12: a target's `sites` (null: every site) through create, update and list, and GET /sites with
// each site's probes and the enabled targets it probes. Addresses are documentation ones, never probed
// (no scheduler runs here).

const SITE_RULE = 'must be a site name: 1-64 lowercase letters, digits and . _ - (starting with a letter or digit)'

interface SiteOut {
  name: string
  created_at: string
  probes: number
  live_probes: number
  targets: number
}

describe.each(ENGINES)('target sites and GET /sites (%s engine)', (engine) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp(engine)
  })
  afterAll(() => t?.close())

  const post = (payload: unknown) => t.app.inject({ method: 'POST', url: '/targets/', headers: t.admin, payload: payload as object })
  const patch = (id: number, payload: unknown) => t.app.inject({ method: 'PATCH', url: `/targets/${id}`, headers: t.admin, payload: payload as object })
  const create = async (payload: Record<string, unknown>) => {
    const res = await post(payload)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: number }>().id
  }
  const target = async (id: number) => (await t.app.inject({ url: `/targets/${id}`, headers: t.viewer })).json<{ sites: string[] | null }>()
  const sites = async () => {
    const res = await t.app.inject({ url: '/sites', headers: t.viewer })
    expect(res.statusCode, res.body).toBe(200)
    return Object.fromEntries(res.json<SiteOut[]>().map((s) => [s.name, s]))
  }

  it('stores null (every site) by default, a list of sites, and null again on reset', async () => {
    const all = await create({ ip: '192.0.2.101' })
    expect((await target(all)).sites).toBeNull()
    const explicit = await create({ ip: '192.0.2.102', sites: null })
    expect((await target(explicit)).sites).toBeNull()

    // A site no probe has started for yet is allowed (its probes may come later); a name given twice counts once.
    const two = await create({ ip: '192.0.2.103', sites: ['east', 'not-yet.started_1', 'east'] })
    expect((await target(two)).sites).toEqual(['east', 'not-yet.started_1'])
    const list = (await t.app.inject({ url: '/targets/', headers: t.viewer })).json<{ id: number; sites: string[] | null }[]>()
    expect(list.find((x) => x.id === two)?.sites).toEqual(['east', 'not-yet.started_1'])
    expect(list.find((x) => x.id === all)?.sites).toBeNull()

    const set = await patch(all, { sites: ['west'] })
    expect(set.statusCode, set.body).toBe(200)
    expect(set.json().sites).toEqual(['west'])
    // Absent leaves it alone; null resets it to every site.
    expect((await patch(all, { name: 'renamed' })).json().sites).toEqual(['west'])
    const reset = await patch(all, { sites: null })
    expect(reset.json().sites).toBeNull()
    expect((await target(all)).sites).toBeNull()

    // Each change is an event under the column name.
    const [ev] = await t.db.sql<{ data: { changes: Record<string, unknown> } }[]>`
      select data from events where target_id = ${all} and type = 'updated' and data->'changes' ? 'sites' order by id desc limit 1`
    expect(ev!.data.changes.sites).toEqual({ from: ['west'], to: null })
  })

  it('refuses invalid site lists with a 422 naming the field and the rule', async () => {
    const id = await create({ ip: '192.0.2.104', sites: ['east'] })
    const cases: [unknown, string, string | null][] = [
      [['East'], 'body.sites.0', SITE_RULE],
      [['ok', ''], 'body.sites.1', SITE_RULE],
      [['-east'], 'body.sites.0', SITE_RULE],
      [['a b'], 'body.sites.0', SITE_RULE],
      [['x'.repeat(65)], 'body.sites.0', SITE_RULE],
      [['a\u0000b'], 'body.sites.0', SITE_RULE],
      [['a\ud800'], 'body.sites.0', SITE_RULE],
      [[7], 'body.sites.0', null],
      [[], 'body.sites', null],
      [Array.from({ length: 33 }, (_, i) => `s${i}`), 'body.sites', null],
      ['east', 'body.sites', null],
    ]
    for (const [sites, loc, msg] of cases) {
      for (const res of [await post({ ip: '192.0.2.105', sites }), await patch(id, { sites })]) {
        expect(res.statusCode, JSON.stringify(sites)).toBe(422)
        const detail = res.json<{ detail: { loc: string[]; msg: string }[] }>().detail
        const problem = detail.find((d) => d.loc.join('.') === loc)
        expect(problem, `${JSON.stringify(sites).slice(0, 60)}: ${res.body}`).toBeDefined()
        if (msg) expect(problem!.msg).toBe(msg)
      }
    }
    // 32 is the most, and nothing above was written.
    const most = Array.from({ length: 32 }, (_, i) => `s${i}`)
    expect((await patch(id, { sites: most })).json().sites).toEqual(most)
    expect((await t.db.sql`select count(*)::int as n from targets where address = '192.0.2.105'`)[0]!.n).toBe(0)
  })

  it('lists every site with its probes and the enabled targets it probes', async () => {
    // Fresh names, so that the targets of the other tests count only where they say.
    await ensureSite(t.db.sql, 'north')
    await ensureSite(t.db.sql, 'south')
    await t.db.sql`
      insert into probes (name, site, version, hostname, pid, heartbeat_ms, heartbeat_at)
      values ('north-1', 'north', 'test', 'localhost', 1, 2000, now()),
             ('north-2', 'north', 'test', 'localhost', 2, 2000, now() - interval '1 minute')`
    const before = await sites()
    expect(before.default).toMatchObject({ name: 'default', probes: 0, live_probes: 0 })
    expect(before.north).toMatchObject({ probes: 2, live_probes: 1, targets: before.default!.targets })
    expect(before.north!.created_at).toMatch(/Z$/)

    const both = await create({ ip: '192.0.2.110', sites: ['north', 'south'] })
    await create({ ip: '192.0.2.111', sites: ['south'] })
    const paused = await create({ ip: '192.0.2.112', sites: ['north'] })
    expect((await t.app.inject({ method: 'POST', url: `/targets/${paused}/pause`, headers: t.admin })).statusCode).toBe(200)
    await create({ ip: '192.0.2.113' }) // every site

    const after = await sites()
    expect(after.default!.targets).toBe(before.default!.targets + 1)
    expect(after.north!.targets).toBe(before.north!.targets + 2) // both and the every-site one; not the paused one
    expect(after.south!.targets).toBe(before.south!.targets + 3)
    // A site named by a target but without a probe yet is not listed: sites come from probes.
    expect(after['not-yet.started_1']).toBeUndefined()

    // Moving a target between sites moves its count.
    await patch(both, { sites: ['default'] })
    const moved = await sites()
    expect([moved.default!.targets, moved.north!.targets, moved.south!.targets]).toEqual([after.default!.targets + 1, after.north!.targets - 1, after.south!.targets - 1])
    // 'default' (id 1) first, then in the order the sites appeared.
    expect(Object.keys(moved).slice(0, 1)).toEqual(['default'])
  })

  it('answers GET /sites to any signed-in user and 401 without a token', async () => {
    expect((await t.app.inject({ url: '/sites', headers: t.viewer })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/sites', headers: t.admin })).statusCode).toBe(200)
    const anon = await t.app.inject({ url: '/sites' })
    expect(anon.statusCode).toBe(401)
    expect(anon.json()).toEqual({ detail: 'Missing credentials' })
  })
})
