import { randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HeartbeatOut } from '../../src/agent/agent.schema.js'
import { authenticateBearer } from '../../src/auth/auth.service.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// The server's half of the remote probe agent (issue 12), through app.inject: probe tokens and their
// confinement, the lease logic run for agents at their heartbeats, and the idempotent, bounded,
// validated sample batches.

describe.each(ENGINES)('/probe/* routes and probe tokens (%s engine)', (engine) => {
  let t: TestApp
  let probe: { authorization: string }
  let token: string
  let ids: number[]

  const heartbeat = (body: object, headers = probe) => t.app.inject({ method: 'POST', url: '/probe/heartbeat', headers, payload: { version: '0.1.0', hostname: 'edge', pid: 1, ...body } })
  const post = (body: object | Buffer, headers: Record<string, string> = { 'content-encoding': 'gzip' }, auth = probe) =>
    t.app.inject({
      method: 'POST',
      url: '/probe/samples',
      headers: { ...auth, 'content-type': 'application/json', ...headers },
      payload: Buffer.isBuffer(body) ? body : headers['content-encoding'] === 'gzip' ? gzipSync(JSON.stringify(body)) : JSON.stringify(body),
    })
  const sample = (targetId: number, i: number) => ({
    time: new Date(Date.now() - 60_000 + i * 1000).toISOString(),
    target_id: targetId,
    seq: 0,
    rtt_us: 100 + i,
    ttl: 64,
    jitter_us: null,
    status: 0,
    reporter: null,
  })

  beforeAll(async () => {
    t = await buildTestApp(engine)
    // 6 targets for the site 'remote' (never probed: no scheduler runs in this test), 2 for 'default'
    const rows = await t.db.sql<{ id: number }[]>`
      insert into targets (address, interval_s, packets, timeout_ms, sites)
      select '192.0.2.' || g, 1, 1, 1000, array[case when g <= 6 then 'remote' else 'default' end] from generate_series(1, 8) g
      returning id`
    ids = rows.map((r) => r.id)
    const created = await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'edge agent', scope: 'probe', site: 'remote' } })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ name: 'edge agent', scope: 'probe', site: 'remote' })
    token = created.json<{ token: string }>().token
    probe = { authorization: `Bearer ${token}` }
  })
  afterAll(() => t?.close())

  it('lets admins alone create probe tokens, each for one site', async () => {
    const asViewer = await t.app.inject({ method: 'POST', url: '/tokens', headers: t.viewer, payload: { name: 'x', scope: 'probe', site: 'remote' } })
    expect(asViewer.statusCode).toBe(403)
    const noSite = await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'x', scope: 'probe' } })
    expect(noSite.statusCode).toBe(422)
    expect(noSite.json().detail[0].loc).toEqual(['body', 'site'])
    const siteOnly = await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'x', site: 'remote' } })
    expect(siteOnly.statusCode).toBe(422)
    const badSite = await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'x', scope: 'probe', site: 'Remote!' } })
    expect(badSite.statusCode).toBe(422)
    const list = await t.app.inject({ url: '/tokens', headers: t.admin })
    expect(list.json()).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'edge agent', scope: 'probe', site: 'remote' })]))
  })

  it('confines a probe token to /probe/*, and /probe/* to probe tokens', async () => {
    for (const url of ['/targets/', '/auth/me', '/tokens', `/targets/${ids[0]}`, '/live']) {
      const res = await t.app.inject({ url, headers: probe })
      expect(res.statusCode, url).toBe(403)
      expect(res.json(), url).toEqual({ detail: 'this token may only be used by a probe agent' })
    }
    const del = await t.app.inject({ method: 'DELETE', url: `/targets/${ids[0]}`, headers: probe })
    expect(del.statusCode).toBe(403)
    const userToken = (await t.app.inject({ method: 'POST', url: '/tokens', headers: t.admin, payload: { name: 'script' } })).json<{ token: string }>().token
    for (const headers of [t.admin, t.viewer, { authorization: `Bearer ${userToken}` }]) {
      expect((await heartbeat({ name: 'x' }, headers)).statusCode).toBe(403)
      const res = await post({ batch_id: randomUUID(), samples: [] }, { 'content-encoding': 'gzip' }, headers)
      expect(res.statusCode).toBe(403)
      expect(res.json().detail).toMatch(/only a probe token/)
    }
    // Any other holder of the credential (the CLI's stored login, the live stream's watch) sees no token at all.
    const outside = await authenticateBearer(t.db.sql, token, () => {
      throw new Error('not a JWT')
    })
    expect(outside).toEqual({ failure: 'invalid' })
    expect((await t.db.sql`select count(*)::int as n from targets`)[0]!.n).toBe(8)
  })

  it("runs the fleet's lease logic for agents: disjoint fair shares of the site's targets, release after the agent stops", async () => {
    const a1 = await heartbeat({ name: 'agent-a', session: null, held: [] })
    expect(a1.statusCode).toBe(200)
    const A1 = a1.json<HeartbeatOut>()
    expect(A1).toMatchObject({ site: 'remote', live_probes: 1, share: 6, release: [] })
    expect(A1.targets.map((x) => x.id)).toEqual(ids.slice(0, 6)) // the site's targets only
    expect(A1.targets[0]).toMatchObject({ address: '192.0.2.1', interval_s: 1, packets: 1, timeout_ms: 1000, done_at_ms_ago: null, open_outage_lost_rounds: null })

    // A second agent of the site: nothing free until the first gives back its surplus.
    const B1 = (await heartbeat({ name: 'agent-b', held: [] })).json<HeartbeatOut>()
    expect(B1).toMatchObject({ live_probes: 2, share: 3, targets: [] })
    const A2 = (await heartbeat({ name: 'agent-a', session: A1.session, held: A1.targets.map((x) => x.id) })).json<HeartbeatOut>()
    expect(A2.release).toEqual([ids[5], ids[4], ids[3]])
    expect(A2.targets.map((x) => x.id)).toEqual(ids.slice(0, 3))
    // Still leased to A (it is still probing them): B gets nothing yet.
    expect((await heartbeat({ name: 'agent-b', session: B1.session, held: [] })).json<HeartbeatOut>().targets).toEqual([])
    // A stopped probing them and leaves them out: released, and B claims them, dated from the release.
    const A3 = (await heartbeat({ name: 'agent-a', session: A1.session, held: ids.slice(0, 3) })).json<HeartbeatOut>()
    expect(A3.targets.map((x) => x.id)).toEqual(ids.slice(0, 3))
    const B2 = (await heartbeat({ name: 'agent-b', session: B1.session, held: [] })).json<HeartbeatOut>()
    expect(B2.targets.map((x) => x.id)).toEqual(ids.slice(3, 6))
    expect(B2.targets.every((x) => x.done_at_ms_ago !== null && x.done_at_ms_ago >= 0)).toBe(true)
    const leases = await t.db.sql<{ targetId: number; name: string }[]>`
      select l.target_id, p.name from probe_leases l join probes p on p.id = l.probe_id where l.expires_at > now() order by l.target_id`
    expect(leases).toEqual([...ids.slice(0, 3).map((id) => ({ targetId: id, name: 'agent-a' })), ...ids.slice(3, 6).map((id) => ({ targetId: id, name: 'agent-b' }))])

    // A name held by a live probe is refused; a forged session does not speak for another row.
    expect((await heartbeat({ name: 'agent-a', session: null, held: [] })).statusCode).toBe(409)
    const forged = await heartbeat({ name: 'agent-c', session: B1.session, held: ids.slice(3, 6) })
    expect(forged.json<HeartbeatOut>().session.id).not.toBe(B1.session.id)

    // A clean stop releases everything at once.
    expect((await t.app.inject({ method: 'POST', url: '/probe/leave', headers: probe, payload: { session: B1.session } })).statusCode).toBe(200)
    const [b] = await t.db.sql<{ stoppedAt: Date | null; assigned: number }[]>`select stopped_at, assigned from probes where name = 'agent-b'`
    expect(b!.stoppedAt).not.toBeNull()
    // Heartbeats do not use up the sites' smallint sequence (one value for the new site, none after).
    const [seq] = await t.db.sql<{ lastValue: string }[]>`select last_value from pg_sequences where sequencename = 'sites_id_seq'`
    expect(Number(seq!.lastValue)).toBeLessThanOrEqual(2)
    await t.db.sql`update probe_leases set expires_at = now() - interval '1 s'`
    await t.db.sql`update probes set stopped_at = now()`
  })

  it('stores a batch once: retried with its id, or its rows sent again under another id', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => sample(ids[i % 6]!, i))
    const batch = { batch_id: randomUUID(), samples: rows }
    const first = await post(batch)
    expect(first.statusCode).toBe(200)
    expect(first.json()).toEqual({ duplicate: false, rows: 50, stored: 50, unknown_targets: 0, out_of_range: 0 })
    expect((await post(batch)).json()).toMatchObject({ duplicate: true, stored: 0 })
    expect((await post({ ...batch, batch_id: randomUUID() })).json()).toMatchObject({ duplicate: false, rows: 50, stored: 0 })
    // plain JSON is accepted too
    expect((await post({ ...batch, batch_id: randomUUID() }, {})).json()).toMatchObject({ duplicate: false, stored: 0 })
    const [n] = await t.db.sql<{ n: number; site: string }[]>`
      select count(*)::int as n, min(s.name) as site from samples join sites s on s.id = samples.site_id`
    expect(n).toEqual({ n: 50, site: 'remote' })
    expect((await t.db.sql`select count(*)::int as n from probe_batches`)[0]!.n).toBe(3)
  })

  it('drops samples of unknown targets and out of range, counting them; applies outage transitions in order', async () => {
    const res = await post({
      batch_id: randomUUID(),
      samples: [sample(ids[0]!, 100), sample(999_999, 1), { ...sample(ids[0]!, 2), time: '2001-01-01T00:00:00Z' }],
      outages: [
        { type: 'open', target_id: ids[1], started_at: new Date(Date.now() - 5000).toISOString(), lost_rounds: 3, cause: 'timeout' },
        { type: 'close', target_id: ids[1], ended_at: new Date().toISOString(), lost_rounds: 4 },
        { type: 'open', target_id: ids[2], started_at: new Date().toISOString(), lost_rounds: 3, cause: 'timeout' },
        { type: 'open', target_id: 999_999, started_at: new Date().toISOString(), lost_rounds: 3, cause: 'timeout' },
      ],
    })
    expect(res.json()).toEqual({ duplicate: false, rows: 3, stored: 1, unknown_targets: 1, out_of_range: 1 })
    const outages = await t.db.sql<{ targetId: number; site: string; open: boolean }[]>`
      select target_id, site, ended_at is null as open from outages order by target_id`
    expect(outages).toEqual([
      { targetId: ids[1], site: 'remote', open: false },
      { targetId: ids[2], site: 'remote', open: true },
    ])
    const events = await t.db.sql<{ type: string }[]>`select type from events where type like 'outage%' order by id`
    expect(events.map((e) => e.type)).toEqual(['outage_open', 'outage_close', 'outage_open'])
    // The next heartbeat tells the agent holding it that the outage is open.
    const hb = (await heartbeat({ name: 'agent-d', held: [] })).json<HeartbeatOut>()
    expect(hb.targets.find((x) => x.id === ids[2])?.open_outage_lost_rounds).toBe(3)
  })

  it('refuses a gzip bomb (413), invalid gzip (400), unknown encodings (415) and bad rows (422 naming the field)', async () => {
    // 100 MB of zeros compress to about 100 KB: under the 8 MB body limit, over the 32 MB decompressed one.
    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024, 0x20), { level: 9 })
    expect(bomb.length).toBeLessThan(1024 * 1024)
    const big = await post(bomb)
    expect(big.statusCode).toBe(413)
    expect(big.json().detail).toMatch(/decompressed body is larger than 32 MB/)
    const huge = await post(Buffer.alloc(9 * 1024 * 1024, 1))
    expect(huge.statusCode).toBe(413)
    expect((await post(Buffer.from('not gzip at all'))).statusCode).toBe(400)
    expect((await post(gzipSync('{"batch_id":'))).json()).toEqual({ detail: 'the body is not valid JSON' })
    expect((await post({ batch_id: randomUUID(), samples: [] }, { 'content-encoding': 'br' })).statusCode).toBe(415)
    const cases: [object, string][] = [
      [{ batch_id: 'nope', samples: [] }, 'body.batch_id'],
      [{ batch_id: randomUUID(), samples: [{ ...sample(ids[0]!, 0), rtt_us: -1 }] }, 'body.samples.0.rtt_us'],
      [{ batch_id: randomUUID(), samples: [sample(ids[0]!, 0), { ...sample(ids[0]!, 0), time: '0000-01-01T00:00:00Z' }] }, 'body.samples.1.time'],
      [{ batch_id: randomUUID(), samples: [{ ...sample(ids[0]!, 0), target_id: 2147483648 }] }, 'body.samples.0.target_id'],
      [{ batch_id: randomUUID(), samples: [{ ...sample(ids[0]!, 0), reporter: 'fe80::1%eth0' }] }, 'body.samples.0.reporter'],
      [{ batch_id: randomUUID(), samples: [], outages: [{ type: 'open', target_id: ids[0], started_at: new Date().toISOString(), lost_rounds: 3, cause: 'a\u0000b' }] }, 'body.outages.0.cause'],
    ]
    for (const [body, loc] of cases) {
      const res = await post(body)
      expect(res.statusCode, loc).toBe(422)
      expect((res.json().detail as { loc: string[] }[]).map((d) => d.loc.join('.')), loc).toContain(loc)
    }
  })
})
