import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createEvaluator } from '../../src/alerts/evaluator.js'
import { refreshTier } from '../../src/db/maintenance/policies.js'
import { type TestDatabase, openTestDatabase, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { MIN, S, baseTime, clearAlerts, incidentsOf, makeChannel, makeRule, makeTarget, outboxOf, round, setOutage, writeRounds } from './helpers.js'

// The evaluator over real data on both engines, driven tick by tick with its own clock: samples are
// written as the probe writer writes them (the 1-minute tier answers in real time, part of it
// materialised with refreshTier), outages as the outage tracker opens and closes them. Exactly the
// expected incidents and outbox rows, none for what flaps below the hysteresis.

describe.each(ENGINES)('alert evaluation (%s engine)', (engine) => {
  let db: TestDatabase
  let channel: number
  beforeAll(async () => {
    db = await openTestDatabase({ engine })
  })
  afterAll(() => db?.destroy())
  beforeEach(async () => {
    await clearAlerts(db.sql)
    channel = await makeChannel(db.sql, 'hook', 'webhook', { url: 'http://127.0.0.1:9/', secret: 'x'.repeat(16) })
  })

  it('a lossy host toggled between 0 % and 20 %, a slow host and a flapping silent host: exactly the expected incidents, across restarts', { timeout: 120_000 }, async () => {
    const T = baseTime(6)
    const lossy = await makeTarget(db.sql, '127.0.20.1', ['lossy'], 'lossy-1')
    const slow = await makeTarget(db.sql, '127.0.20.2', ['slow'])
    const silent = await makeTarget(db.sql, '127.0.20.3', ['silent'])
    await makeRule(db.sql, { name: 'loss', scope: 'tag', tag: 'lossy', condition: 'loss', threshold: 4, window_s: 60, for_s: 120, recover_s: 120, channel_ids: [channel] })
    await makeRule(db.sql, { name: 'p95', scope: 'tag', tag: 'slow', condition: 'latency_p95', threshold: 50, window_s: 60, for_s: 60, recover_s: 60, channel_ids: [channel] })
    await makeRule(db.sql, { name: 'down', scope: 'tag', tag: 'silent', condition: 'outage', for_s: 60, recover_s: 60, channel_ids: [channel] })

    const m = (minutes: number) => T + minutes * MIN
    const lossyAt = (s: number) => (s >= 180 && s < 540) || (s >= 1080 && s < 1440) || s === 840 || s === 850 // 20 % loss; a 20 s blip at 14:00
    const slowAt = (s: number) => s >= 360 && s < 720 // p95 80 ms instead of 10 ms
    // silent: down 20 s / up 20 s until 10:00, down 12:00–16:00, flapping again from 20:00
    const downAt = (s: number) => (s < 600 || s >= 1200 ? Math.floor(s / 20) % 2 === 0 : s >= 720 && s < 960)

    let evaluator = createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 0 })
    for (let k = 0; k <= 162; k++) {
      const s = k * 10
      const at = T + s * S
      await writeRounds(db.sql, [...round(lossy, at, 5, lossyAt(s) ? 1 : 0, 10_000), ...round(slow, at, 5, 0, slowAt(s) ? 80_000 : 10_000)])
      await setOutage(db.sql, silent, downAt(s), at)
      if (k === 78) await refreshTier(db.sql, 'samples_1m', new Date(T), new Date(m(12)))
      // A new evaluator every 7 passes: everything it needs is in the database.
      if (k % 7 === 0) evaluator = createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 0 })
      await evaluator.tick(at)
    }

    const incidents = await incidentsOf(db.sql)
    const at = (minutes: number, seconds = 0) => m(minutes) + seconds * S
    expect(incidents.map(({ peak: _, ...i }) => i)).toEqual([
      { rule: 'loss', targetId: lossy, startedAt: at(3, 10), firedAt: at(5, 10), endedAt: at(9, 10), notified: true, endReason: 'recovered' },
      { rule: 'p95', targetId: slow, startedAt: at(6), firedAt: at(7), endedAt: at(12, 10), notified: true, endReason: 'recovered' },
      { rule: 'down', targetId: silent, startedAt: at(12), firedAt: at(13), endedAt: at(16), notified: true, endReason: 'recovered' },
      { rule: 'loss', targetId: lossy, startedAt: at(18, 10), firedAt: at(20, 10), endedAt: at(24, 10), notified: true, endReason: 'recovered' },
    ])
    expect(incidents[0]!.peak).toBeCloseTo(20, 6)
    expect(incidents[1]!.peak).toBeGreaterThan(80 * 0.725)
    expect(incidents[1]!.peak).toBeLessThan(80 * 1.275)
    expect(incidents[2]!.peak).toBe(230) // the outage's length at the last pass that saw it open

    const outbox = await outboxOf(db.sql)
    const ids = await db.sql<{ id: number; ruleName: string }[]>`select id, rule_name from incidents order by id`
    const key = (i: number, t: string) => `incident:${ids[i]!.id}:${t}:channel:${channel}`
    expect(outbox.map((o) => [o.dedupeKey, o.createdAt])).toEqual([
      [key(0, 'fire'), at(5, 10)],
      [key(1, 'fire'), at(7)],
      [key(0, 'resolve'), at(11, 10)],
      [key(2, 'fire'), at(13)],
      [key(1, 'resolve'), at(13, 10)],
      [key(2, 'resolve'), at(17)],
      [key(3, 'fire'), at(20, 10)],
      [key(3, 'resolve'), at(26, 10)],
    ])
    expect(outbox[0]!.text).toBe('FIRING [warning] lossy-1 (127.0.20.1): loss 20.0 % ≥ 4.0 % over 60 s (rule "loss")')
    expect(outbox[2]!.text).toBe('RESOLVED [warning] lossy-1 (127.0.20.1): loss back under 4.0 % after 6 min, peak 20.0 % (rule "loss")')
    expect(outbox[3]!.text).toBe('FIRING [warning] 127.0.20.3: outage for 60 s (rule "down")')
    // Each fire and resolve is in the target's events (the global timeline), worded as its notification
    // (the driver hands jsonb keys over in camelCase).
    const events = await db.sql<{ type: string; targetId: number; message: string; actor: string; data: { incidentId: number; endReason?: string } }[]>`
      select type, target_id, message, actor, data from events where type like 'incident%' order by id`
    expect(events.map((e) => [e.type, e.targetId, e.data.incidentId, e.actor, e.data.endReason ?? null])).toEqual(
      outbox.map((o) => {
        const i = ids.findIndex((x) => o.dedupeKey.startsWith(`incident:${x.id}:`))
        const fire = o.dedupeKey.includes(':fire:')
        return [fire ? 'incident_open' : 'incident_resolved', incidents[i]!.targetId, ids[i]!.id, 'alerting', fire ? null : 'recovered']
      }),
    )
    expect(events.map((e) => e.message)).toEqual(outbox.map((o) => o.text))
    // everything is ok again: no state left
    expect(await db.sql`select * from alert_state`).toHaveLength(0)
  })

  it('records incidents under a silence or a mute and holds their notifications until it ends', async () => {
    const T = baseTime(5)
    const a = await makeTarget(db.sql, '127.0.21.1', ['site2', 'maint'])
    const b = await makeTarget(db.sql, '127.0.21.2', ['site2'])
    const c = await makeTarget(db.sql, '127.0.21.3', ['site3'])
    await makeRule(db.sql, { name: 'site2 down', scope: 'tag', tag: 'site2', condition: 'outage', for_s: 0, recover_s: 0, channel_ids: [channel] })
    const muted = await makeRule(db.sql, { name: 'c down', scope: 'target', target_id: c, condition: 'outage', for_s: 0, recover_s: 0, muted: true, channel_ids: [channel] })
    await db.sql`insert into silences (tag, starts_at, ends_at, reason) values ('maint', ${new Date(T)}, ${new Date(T + 5 * MIN)}, 'maintenance')`
    await db.sql`insert into silences (target_id, starts_at, ends_at, reason) values (${b}, ${new Date(T)}, ${new Date(T + 10 * MIN)}, 'rack move')`
    const evaluator = createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 5 * S })
    const step = async (minutes: number, changes: [number, boolean][]) => {
      for (const [id, down] of changes) await setOutage(db.sql, id, down, T + minutes * MIN)
      await evaluator.tick(T + minutes * MIN)
    }
    await step(1, [[a, true], [c, true]]) // a: silenced by tag; c: muted rule
    await step(2, [[a, false]]) // over inside the silence: never notified at all
    await step(3, [[a, true], [b, true]]) // a again, still silenced; b silenced by target
    expect(await outboxOf(db.sql)).toEqual([])
    await step(5, []) // the tag silence is over, a is still down: its fire goes out now
    await step(5.5, [])
    await db.sql`update alert_rules set muted = false where id = ${muted.id}`
    await step(6, [[a, false]]) // c's fire goes out (unmuted); a resolves
    await step(7, [[b, false]]) // b resolves inside its silence: recorded, never notified

    const incidents = await incidentsOf(db.sql)
    expect(incidents.map((i) => [i.rule, i.targetId, (i.startedAt - T) / MIN, i.endedAt === null ? null : (i.endedAt - T) / MIN, i.notified])).toEqual([
      ['site2 down', a, 1, 2, false],
      ['c down', c, 1, null, true],
      ['site2 down', a, 3, 6, true],
      ['site2 down', b, 3, 7, false],
    ])
    const [, cInc, a2] = await db.sql<{ id: number }[]>`select id from incidents order by id`
    const outbox = await outboxOf(db.sql)
    expect(outbox.map((o) => [o.dedupeKey, (o.createdAt - T) / MIN])).toEqual([
      [`incident:${a2!.id}:fire:channel:${channel}`, 5],
      [`incident:${a2!.id}:resolve:channel:${channel}`, 6], // the pass judges first, then queues what was held
      [`incident:${cInc!.id}:fire:channel:${channel}`, 6],
    ])
    // a held fire says how bad it has been so far
    expect(outbox[0]!.text).toBe('FIRING [warning] 127.0.21.1: outage for 120 s (rule "site2 down")')
    const [due] = await db.sql<{ nextAttemptAt: Date }[]>`select next_attempt_at from notification_outbox order by id limit 1`
    expect(due!.nextAttemptAt.getTime()).toBe(T + 5 * MIN + 5 * S) // ALERTS_GROUP_WAIT_S later
  })

  it('closes the incident of a target that leaves the scope, writes a transition in one transaction, and survives two evaluators racing', async () => {
    const T = baseTime(4)
    const d = await makeTarget(db.sql, '127.0.22.1', ['scope'])
    const e = await makeTarget(db.sql, '127.0.22.2', ['scope'])
    await makeRule(db.sql, { name: 'scope down', scope: 'tag', tag: 'scope', condition: 'outage', for_s: 0, recover_s: 0, channel_ids: [channel] })
    const one = createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 0 })
    const two = createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 0 })

    // Paused while firing: out of scope, the incident closes and its resolve is queued.
    await setOutage(db.sql, d, true, T)
    await one.tick(T)
    await db.sql`update targets set enabled = false where id = ${d}`
    await one.tick(T + 10 * S)
    expect((await incidentsOf(db.sql)).map((i) => [i.targetId, i.endReason, i.endedAt])).toEqual([[d, 'out_of_scope', T + 10 * S]])
    expect((await outboxOf(db.sql)).map((o) => o.transition)).toEqual(['fire', 'resolve'])
    expect(await db.sql`select * from alert_state`).toHaveLength(0)

    // The outbox refuses a row: the whole fire rolls back (no incident, no state), and the next pass fires.
    await db.sql.unsafe(`create or replace function pingscope_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'outbox refused'; end $$`)
    await db.sql.unsafe(`create trigger pingscope_test_refuse before insert on notification_outbox for each row execute function pingscope_test_refuse()`)
    await setOutage(db.sql, e, true, T + 20 * S)
    await one.tick(T + 20 * S)
    expect((await incidentsOf(db.sql)).filter((i) => i.targetId === e)).toEqual([])
    expect(await db.sql`select * from alert_state where target_id = ${e}`).toHaveLength(0)
    expect(one.stats().failures).toBe(1)
    await db.sql.unsafe('drop trigger pingscope_test_refuse on notification_outbox')

    // Two evaluators on the same pass: one incident, one notification per channel.
    await Promise.all([one.tick(T + 30 * S), two.tick(T + 30 * S)])
    await Promise.all([one.tick(T + 40 * S), two.tick(T + 40 * S)])
    const forE = (await incidentsOf(db.sql)).filter((i) => i.targetId === e)
    expect(forE.map((i) => [i.startedAt, i.endedAt])).toEqual([[T + 30 * S, null]])
    expect((await outboxOf(db.sql)).map((o) => o.transition)).toEqual(['fire', 'resolve', 'fire'])
    // The refused fire left no event either (one transaction); the race wrote one.
    expect((await db.sql`select type from events where target_id = ${e} and type like 'incident%'`).map((r) => r.type)).toEqual(['incident_open'])
    expect((await db.sql`select type, data->>'end_reason' as reason from events where target_id = ${d} and type like 'incident%' order by id`).map((r) => [r.type, r.reason])).toEqual([
      ['incident_open', null],
      ['incident_resolved', 'out_of_scope'],
    ])

    // A rule about one target goes with the target; its open incident closes at the next pass.
    const g = await makeTarget(db.sql, '127.0.22.3')
    await makeRule(db.sql, { name: 'g down', scope: 'target', target_id: g, condition: 'outage', for_s: 0, recover_s: 0, channel_ids: [channel] })
    await setOutage(db.sql, g, true, T + 50 * S)
    await one.tick(T + 50 * S)
    await db.sql`delete from targets where id = ${g}`
    await one.tick(T + 60 * S)
    expect((await incidentsOf(db.sql)).filter((i) => i.targetId === g).map((i) => [i.rule, i.endReason, i.endedAt])).toEqual([['g down', 'rule_deleted', T + 60 * S]])
  })

  it('fires on path changes within the window and on targets no live probe holds, and resolves when that ends', async () => {
    const T = baseTime(3)
    const routed = await makeTarget(db.sql, '127.0.23.1', ['pathy'])
    const leased = await makeTarget(db.sql, '127.0.23.2', ['leased'])
    const orphan = await makeTarget(db.sql, '127.0.23.3', ['leased'])
    await makeRule(db.sql, { name: 'path', scope: 'tag', tag: 'pathy', condition: 'path_change', threshold: 1, window_s: 300, for_s: 0, recover_s: 60, channel_ids: [channel] })
    await makeRule(db.sql, { name: 'unprobed', scope: 'tag', tag: 'leased', condition: 'probe_missing', window_s: 60, for_s: 30, recover_s: 0, channel_ids: [channel] })
    // Path changes as the traceroute service records them; a lease as a probe holds it until T+100 s.
    for (const s of [60, 400, 410]) {
      await db.sql`insert into events (target_id, type, message, created_at) values (${routed}, 'path_change', 'path changed', ${new Date(T + s * S)})`
    }
    const [probe] = await db.sql<{ id: number }[]>`
      insert into probes (name, version, hostname, pid, heartbeat_ms) values ('eval-test-probe', 'test', 'localhost', 1, 2000) returning id`
    await db.sql`insert into probe_leases (target_id, probe_id, expires_at) values (${leased}, ${probe!.id}, ${new Date(T + 100 * S)})`

    const evaluator = createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 0 })
    for (let s = 0; s <= 800; s += 10) {
      // The probe comes back at T+300 s and renews its lease.
      if (s === 300) await db.sql`update probe_leases set expires_at = ${new Date(T + 3600 * S)} where target_id = ${leased}`
      await evaluator.tick(T + s * S)
    }

    const incidents = (await incidentsOf(db.sql)).filter((i) => [routed, leased, orphan].includes(i.targetId))
    expect(incidents).toEqual([
      // never leased: nobody probes it from the first pass; no figure for how long
      { rule: 'unprobed', targetId: orphan, startedAt: T, firedAt: T + 30 * S, endedAt: null, peak: null, notified: true, endReason: null },
      // the change at 60 s counts until 360 s; those at 400 and 410 s bring it back before recover_s passed
      { rule: 'path', targetId: routed, startedAt: T + 60 * S, firedAt: T + 60 * S, endedAt: T + 710 * S, peak: 2, notified: true, endReason: 'recovered' },
      // the lease ran out at 100 s: 30 s later it fires; the renewal at 300 s resolves it at once
      { rule: 'unprobed', targetId: leased, startedAt: T + 100 * S, firedAt: T + 130 * S, endedAt: T + 300 * S, peak: 190, notified: true, endReason: 'recovered' },
    ])
    const texts = (await outboxOf(db.sql)).map((o) => o.text)
    expect(texts).toContain('RESOLVED [warning] 127.0.23.2: probed again after 3 min, peak 190 s (rule "unprobed")')
    expect(texts).toContain('FIRING [warning] 127.0.23.1: path changed 1 change ≥ 1 change over 5 min (rule "path")')
  })
})
