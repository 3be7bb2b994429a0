import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TargetOut } from '../../src/targets/targets.schema.js'
import { listTargetFacts } from '../../src/targets/targets.repo.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// The newest sample and the newest reply of GET /targets/ (listTargetFacts) are looked up per site
// through samples' (target, site, time) index. They must stay what their plain definitions say, across
// sites, within one round (several echoes at one time: the highest seq), in a compressed chunk, and
// past the reply window's one day. Samples are written directly; loopback addresses only.

describe.each(ENGINES)('the newest sample and reply of each target (%s engine)', (engine) => {
  let t: TestApp
  const ids: Record<string, number> = {}

  beforeAll(async () => {
    t = await buildTestApp(engine)
    const sql = t.db.sql
    await sql`insert into sites (name) values ('second')`
    const [second] = await sql<{ id: number }[]>`select id from sites where name = 'second'`
    const rows = await sql<{ id: number; name: string }[]>`
      insert into targets (address, name, interval_s, packets, created_at)
      values ('127.0.10.1', 'two-sites', 60, 2, now() - interval '3 days'),
             ('127.0.10.2', 'one-round', 60, 3, now() - interval '3 days'),
             ('127.0.10.3', 'stale', 60, 1, now() - interval '3 days'),
             ('127.0.10.4', 'lost-lately', 60, 1, now() - interval '3 days'),
             ('127.0.10.5', 'never', 60, 1, now() - interval '3 days')
      returning id, name`
    for (const r of rows) ids[r.name] = r.id
    const at = (s: number) => sql`date_trunc('second', now()) - make_interval(secs => ${s})`
    await sql`
      insert into samples (site_id, time, target_id, seq, rtt_us, status) values
        -- the default site answered a minute ago; the second site's round 30 s ago lost its last echo
        (1, ${at(60)}, ${ids['two-sites']!}, 0, 300, 0),
        (1, ${at(60)}, ${ids['two-sites']!}, 1, 310, 0),
        (${second!.id}, ${at(30)}, ${ids['two-sites']!}, 0, 500, 0),
        (${second!.id}, ${at(30)}, ${ids['two-sites']!}, 1, null, 1),
        -- three echoes stamped with one time: the newest is the highest seq
        (1, ${at(20)}, ${ids['one-round']!}, 0, 100, 0),
        (1, ${at(20)}, ${ids['one-round']!}, 1, 200, 0),
        (1, ${at(20)}, ${ids['one-round']!}, 2, 250, 0),
        (1, ${at(80)}, ${ids['one-round']!}, 0, 900, 0),
        -- silent for two days: its samples are in a chunk compressed below
        (1, ${at(2 * 86_400 + 60)}, ${ids.stale!}, 0, 400, 0),
        (1, ${at(2 * 86_400)}, ${ids.stale!}, 0, 410, 0),
        -- answered 30 hours ago (outside the reply window), every echo lost since
        (1, ${at(30 * 3600)}, ${ids['lost-lately']!}, 0, 700, 0),
        (1, ${at(10)}, ${ids['lost-lately']!}, 0, null, 1)`
    await sql`select compress_chunk(c, if_not_compressed => true) from show_chunks('samples', older_than => now() - interval '1 day') c`
  })

  afterAll(async () => {
    await t?.close()
  })

  it('lists what the plain definitions say, on every target', async () => {
    const sql = t.db.sql
    const expected = await sql<{ id: number; lastTime: Date | null; lastRttUs: number | null; lastReplyAt: Date | null }[]>`
      select t.id,
        (select s.time from samples s where s.target_id = t.id order by s.time desc, s.seq desc limit 1) as last_time,
        (select s.rtt_us from samples s where s.target_id = t.id order by s.time desc, s.seq desc limit 1) as last_rtt_us,
        (select max(s.time) from samples s where s.target_id = t.id and s.rtt_us is not null and s.time > now() - interval '1 day') as last_reply_at
      from targets t order by t.id`
    const listed = await listTargetFacts(sql, { sort: 'id', limit: null, offset: 0 })
    expect(listed.map((r) => ({ id: r.id, lastTime: r.lastTime, lastRttUs: r.lastRttUs, lastReplyAt: r.lastReplyAt }))).toEqual(expected)
    const [compressed] = await sql<{ n: number }[]>`
      select count(*)::int as n from timescaledb_information.chunks where hypertable_name = 'samples' and is_compressed`
    expect(compressed!.n).toBeGreaterThan(0)
  })

  it('shows them on GET /targets/ with the state they decide', async () => {
    const res = await t.app.inject({ url: '/targets/', headers: t.viewer })
    expect(res.statusCode).toBe(200)
    const by = Object.fromEntries(res.json<TargetOut[]>().map((x) => [x.name, x]))
    const ago = (iso: string | null | undefined) => (iso ? Math.round((Date.now() - Date.parse(iso)) / 1000) : null)
    // The second site's round is the newest: its last echo was lost, its first answered.
    expect(by['two-sites']!.last_sample).toMatchObject({ latency_ms: null, packet_loss: true })
    expect(ago(by['two-sites']!.last_sample!.time)).toBeGreaterThanOrEqual(30)
    expect(ago(by['two-sites']!.last_sample!.time)).toBeLessThan(60)
    expect(by['two-sites']!.last_reply_at).toBe(by['two-sites']!.last_sample!.time)
    expect(by['one-round']!.last_sample).toMatchObject({ latency_ms: 0.25, packet_loss: false })
    // Silent for two days: its newest sample is still shown, and it is unknown (no reply within a day).
    expect(by.stale!.last_sample).toMatchObject({ latency_ms: 0.41, packet_loss: false })
    expect(ago(by.stale!.last_sample!.time)).toBeGreaterThanOrEqual(2 * 86_400)
    expect(by.stale!.last_reply_at).toBeNull()
    expect(by.stale!.state).toBe('unknown')
    expect(by['lost-lately']!.last_sample).toMatchObject({ latency_ms: null, packet_loss: true })
    expect(by['lost-lately']!.last_reply_at).toBeNull()
    expect(by['lost-lately']!.state).toBe('unknown')
    expect(by.never!.last_sample).toBeNull()
    expect(by.never!.state).toBe('unknown')
  })
})
