import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TimelineEventOut } from '../../src/events/events.schema.js'
import { causeInWords, closeOutage, openOutage } from '../../src/outages/outages.repo.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// The global events timeline (GET /events) on the real engine: every target's events newest first,
// deleted targets named from their snapshot, filters by type, tag, target and time, cursor paging that
// returns every event exactly once, and the CLI-facing errors naming the field. The targets use
// documentation addresses and the test app runs no probe scheduler: nothing is ever sent to them.

describe.each(ENGINES)('events timeline API (%s engine)', (engine) => {
  let t: TestApp
  const ids: Record<string, number> = {}

  const get = async (qs: string, headers = t.admin) => {
    const res = await t.app.inject({ url: `/events${qs}`, headers })
    return { status: res.statusCode, body: res.json<TimelineEventOut[] & { detail?: unknown }>() }
  }
  const events = async (qs = '') => {
    const res = await get(qs)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body
  }

  beforeAll(async () => {
    t = await buildTestApp(engine)
    const create = async (ip: string, name: string, tags: string[]) => {
      const res = await t.app.inject({ method: 'POST', url: '/targets/', headers: t.admin, payload: { ip, name, tags, frequency: 60 } })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<{ id: number }>().id
    }
    ids.core = await create('192.0.2.21', 'core-router', ['core'])
    ids.edge = await create('192.0.2.22', 'edge', ['edge'])
    ids.gone = await create('2001:db8::23', 'gone-host', ['core'])
    expect((await t.app.inject({ method: 'PATCH', url: `/targets/${ids.core}`, headers: t.admin, payload: { notes: 'rack 4' } })).statusCode).toBe(200)
    expect((await t.app.inject({ method: 'POST', url: `/targets/${ids.edge}/pause`, headers: t.admin })).statusCode).toBe(200)
    const at = new Date()
    await openOutage(t.db.sql, { targetId: ids.core!, startedAt: at, lostRounds: 3, cause: 'timeout' })
    await closeOutage(t.db.sql, { targetId: ids.core!, endedAt: new Date(at.getTime() + 30_000), lostRounds: 4 })
    expect((await t.app.inject({ method: 'DELETE', url: `/targets/${ids.gone}`, headers: t.admin })).statusCode).toBe(200)
  }, 120_000)

  afterAll(async () => {
    await t?.close()
  })

  it('lists every target’s events newest first, a deleted target named from its snapshot', async () => {
    const all = await events()
    expect(all.map((e) => [e.target_id, e.event_type])).toEqual([
      [ids.gone, 'deleted'],
      [ids.core, 'outage_close'],
      [ids.core, 'outage_open'],
      [ids.edge, 'stop'],
      [ids.core, 'updated'],
      [ids.gone, 'created'],
      [ids.edge, 'created'],
      [ids.core, 'created'],
    ])
    const byId = new Map(all.map((e) => [e.id, e]))
    expect(byId.size).toBe(8)
    const gone = all.filter((e) => e.target_id === ids.gone)
    expect(gone.map((e) => [e.target_name, e.target_address, e.target_exists])).toEqual([
      ['gone-host', '2001:db8::23', false],
      ['gone-host', '2001:db8::23', false],
    ])
    const core = all.find((e) => e.event_type === 'outage_open')!
    expect(core).toMatchObject({ target_name: 'core-router', target_address: '192.0.2.21', target_exists: true, actor: 'scheduler' })
    expect(core.data).toMatchObject({ cause: 'timeout' })
    expect(core.message).toBe('Outage: 3 consecutive rounds lost, no reply before the timeout')
    // Newest first by time: each created_at is at or before the previous one.
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i]!.created_at)).toBeLessThanOrEqual(Date.parse(all[i - 1]!.created_at))
    // A viewer reads it too; without credentials it is a 401.
    expect((await get('', t.viewer)).status).toBe(200)
    expect((await t.app.inject({ url: '/events' })).statusCode).toBe(401)
  })

  it('filters by type, tag, target (deleted ones too) and time', async () => {
    expect((await events('?type=outage_open,outage_close')).map((e) => e.event_type)).toEqual(['outage_close', 'outage_open'])
    expect((await events('?type=created')).map((e) => e.target_id)).toEqual([ids.gone, ids.edge, ids.core])
    // A tag matches the targets that carry it now: the deleted one carries nothing any more.
    expect(new Set((await events('?tag=core')).map((e) => e.target_id))).toEqual(new Set([ids.core]))
    expect(await events('?tag=nobody')).toEqual([])
    expect((await events(`?target_id=${ids.gone}`)).map((e) => e.event_type)).toEqual(['deleted', 'created'])
    expect((await events(`?target_id=${ids.edge}&type=stop`)).map((e) => e.event_type)).toEqual(['stop'])

    // Move the edge target's events a day back: the window [from, to) sees exactly them.
    const dayAgo = new Date(Date.now() - 86_400_000)
    await t.db.sql`update events set created_at = ${dayAgo} where target_id = ${ids.edge!}`
    const from = new Date(dayAgo.getTime() - 60_000).toISOString()
    const to = new Date(dayAgo.getTime() + 60_000).toISOString()
    expect((await events(`?from=${from}&to=${to}`)).map((e) => [e.target_id, e.event_type])).toEqual([
      [ids.edge, 'stop'],
      [ids.edge, 'created'],
    ])
    expect((await events(`?from=${to}`)).some((e) => e.target_id === ids.edge)).toBe(false)
    expect((await events(`?to=${dayAgo.toISOString()}`)).length).toBe(0)
    // `to` is exclusive.
    expect((await events(`?to=${new Date(dayAgo.getTime() + 1).toISOString()}`)).length).toBe(2)
  })

  it('pages with before_id: every event exactly once, in the order of one big page', async () => {
    const whole = (await events('?limit=1000')).map((e) => e.id)
    for (const limit of [1, 2, 3]) {
      const seen: number[] = []
      let before: number | undefined
      for (let guard = 0; guard < 20; guard++) {
        const page = await events(`?limit=${limit}${before === undefined ? '' : `&before_id=${before}`}`)
        seen.push(...page.map((e) => e.id))
        if (page.length < limit) break
        before = page.at(-1)!.id
      }
      expect(seen, `limit ${limit}`).toEqual(whole)
    }
  })

  it('names the field of every bad parameter', async () => {
    const bad: [string, string][] = [
      ['?type=outage', 'type'],
      ['?type=', 'type'],
      ['?type=%00', 'type'],
      ['?tag=a%00b', 'tag'],
      ['?target_id=2147483648', 'target_id'],
      ['?target_id=fe80::1%25eth0', 'target_id'],
      ['?before_id=9223372036854775808', 'before_id'],
      ['?before_id=987654321', 'before_id'],
      ['?from=0000-01-01T00:00:00Z', 'from'],
      ['?to=2026-13-01T00:00:00Z', 'to'],
      ['?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
    ]
    for (const [qs, field] of bad) {
      const res = await get(qs)
      expect(res.status, qs).toBe(422)
      const detail = (res.body as unknown as { detail: { loc: string[]; msg: string }[] }).detail
      expect(detail.some((d) => d.loc[0] === 'querystring' && d.loc[1] === field), `${qs}: ${JSON.stringify(detail)}`).toBe(true)
    }
  })
})

describe('outage causes in words', () => {
  it('says what the probe saw', () => {
    expect(causeInWords('timeout')).toBe('no reply before the timeout')
    expect(causeInWords('unreachable (reported by 192.0.2.1)')).toBe('unreachable, reported by 192.0.2.1')
    expect(causeInWords('unreachable (reported by a router)')).toBe('unreachable, reported by a router')
    expect(causeInWords('something new')).toBe('something new')
  })
})
