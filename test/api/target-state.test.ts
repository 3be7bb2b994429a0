import { gunzipSync } from 'node:zlib'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TargetOut } from '../../src/targets/targets.schema.js'
import { listTargetStates } from '../../src/targets/targets.service.js'
import { type TestApp, ADMIN, buildTestApp } from '../helpers/app.js'
import { tempDir } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { runCli, show } from '../cli/cli.js'

// Issue 14: one state per target, decided by the API (src/targets/target-state.ts) and the same on
// GET /targets/, GET /targets/{id}, the badge and the CLI. Samples, outages and events are written
// directly (nothing is probed); documentation and loopback addresses only.

describe.each(ENGINES)('target state across the API, badges and the CLI (%s engine)', (engine) => {
  let t: TestApp
  const home = tempDir('pingscope-home-')
  const ids: Record<string, number> = {}
  const times: Record<string, string> = {}

  beforeAll(async () => {
    t = await buildTestApp(engine)
    const sql = t.db.sql
    const rows = await sql<{ id: number; name: string }[]>`
      insert into targets (address, name, interval_s, packets, enabled, badge_public, created_at)
      values ('127.0.9.1', 'up', 60, 1, true, true, now() - interval '2 hours'),
             ('127.0.9.2', 'degraded', 60, 1, true, true, now() - interval '2 hours'),
             ('127.0.9.3', 'down', 60, 1, true, true, now() - interval '2 hours'),
             ('203.0.113.9', 'paused', 60, 1, false, true, now() - interval '2 hours'),
             ('127.0.9.4', 'unknown', 60, 1, true, true, now() - interval '2 hours')
      returning id, name`
    for (const r of rows) ids[r.name] = r.id
    // 100 echoes over the last 50 minutes (one every 30 s), the newest 5 s ago.
    //   up: every echo answered; degraded: every 5th lost (20 %), the newest answered;
    //   down: answered until 20 minutes ago, then all lost, and an outage open since 19 minutes ago.
    await sql`
      insert into samples (time, target_id, seq, rtt_us, ttl, status)
      select now() - interval '5 seconds' - make_interval(secs => 30 * k), t.id, 0,
        case when t.name = 'degraded' and k % 5 = 4 then null
             when t.name = 'down' and k < 40 then null else 200 + k end,
        64,
        case when (t.name = 'degraded' and k % 5 = 4) or (t.name = 'down' and k < 40) then 1 else 0 end
      from targets t, generate_series(0, 99) k
      where t.name in ('up', 'degraded', 'down')`
    const [o] = await sql<{ started: Date }[]>`
      insert into outages (target_id, started_at, lost_rounds, cause)
      values (${ids.down!}, date_trunc('second', now()) - interval '19 minutes', 38, 'timeout') returning started_at as started`
    times.down = o!.started.toISOString()
    const [e] = await sql<{ at: Date }[]>`
      insert into events (target_id, type, message, actor, created_at)
      values (${ids.paused!}, 'stop', 'Tracking paused', 'admin', date_trunc('second', now()) - interval '10 minutes') returning created_at as at`
    times.paused = e!.at.toISOString()
    const [f] = await sql<{ at: Date }[]>`
      select min(time_bucket('1 minute', time)) as at from samples where target_id = ${ids.degraded!} and rtt_us is null and time > now() - interval '1 hour'`
    times.degraded = f!.at.toISOString()
  })

  afterAll(async () => {
    await t?.close()
    rmSync(home, { recursive: true, force: true })
  })

  const get = async <T>(url: string, headers: Record<string, string> = t.viewer) => {
    const res = await t.app.inject({ url, headers })
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200)
    return res.json<T>()
  }
  const badgeState = async (id: number) => {
    const res = await t.app.inject({ url: `/badge/${id}.svg` })
    expect(res.statusCode).toBe(200)
    const label = /aria-label="([^"]*)"/.exec(res.body)![1]!
    return label.split(': ')[1]!.split(' ')[0]
  }

  it('decides up, degraded, down, paused and unknown, with when each began', async () => {
    const list = await get<TargetOut[]>('/targets/')
    const by = Object.fromEntries(list.map((x) => [x.name, x]))
    expect(Object.fromEntries(Object.entries(ids).map(([name]) => [name, by[name]!.state]))).toEqual({
      up: 'up',
      degraded: 'degraded',
      down: 'down',
      paused: 'paused',
      unknown: 'unknown',
    })
    expect(by.down!.state_since).toBe(times.down)
    expect(by.paused!.state_since).toBe(times.paused)
    expect(by.degraded!.state_since).toBe(times.degraded)
    // up and unknown: since the creation (no outage ended, never resumed, never answered)
    expect(by.up!.state_since).toBe(by.up!.created_at)
    expect(by.unknown!.state_since).toBe(by.unknown!.created_at)
    // the down target answered 20 minutes ago: still down, the outage decides
    expect(by.down!.last_reply_at).not.toBeNull()
  })

  it('says the same state on the list, the target, the badge and the CLI', async () => {
    const list = await get<TargetOut[]>('/targets/')
    const env = { ...t.db.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'cfg') }
    const login = await runCli(['login', '-u', ADMIN.username, '--quiet'], env, `${ADMIN.password}\n`)
    expect(login.code, show(login)).toBe(0)
    const cliList = await runCli(['target', 'list', '--json'], env)
    expect(cliList.code, show(cliList)).toBe(0)
    const cliRows = cliList.json<TargetOut[]>()
    for (const [name, id] of Object.entries(ids)) {
      const listed = list.find((x) => x.id === id)!
      const one = await get<TargetOut>(`/targets/${id}`)
      const cliOne = await runCli(['target', 'show', String(id), '--json'], env)
      expect(cliOne.code, show(cliOne)).toBe(0)
      const seen = {
        list: [listed.state, listed.state_since],
        target: [one.state, one.state_since],
        cliList: [cliRows.find((x) => x.id === id)!.state, cliRows.find((x) => x.id === id)!.state_since],
        cliShow: [cliOne.json<TargetOut>().state, cliOne.json<TargetOut>().state_since],
        badge: [await badgeState(id), listed.state_since],
      }
      expect(seen, name).toEqual({ list: [name, listed.state_since], target: seen.list, cliList: seen.list, cliShow: seen.list, badge: seen.list })
    }
    // The live stream's state watch reads a narrower query (no last sample): the same states.
    const watched = await listTargetStates(t.db.sql)
    expect(watched.map((w) => [w.id, w.state, w.since.toISOString()])).toEqual(list.map((x) => [x.id, x.state, x.state_since]))
    // The human output says since when.
    const human = await runCli(['target', 'show', String(ids.down)], { ...env, NO_COLOR: '1' })
    expect(human.stdout).toMatch(new RegExp(`state\\s+down since ${times.down!.replace('.000Z', 'Z')} \\(1[89] min\\)`))
  })

  it('filters the list by every state, degraded included, and counts the matches', async () => {
    for (const state of ['up', 'degraded', 'down', 'paused', 'unknown']) {
      const res = await t.app.inject({ url: `/targets/?state=${state}`, headers: t.viewer })
      expect(res.statusCode).toBe(200)
      expect(res.json<TargetOut[]>().map((x) => x.name), state).toEqual([state])
      expect(res.headers['x-total-count']).toBe('1')
    }
    const active = await get<TargetOut[]>('/targets/?state=active&sort=name')
    expect(active.map((x) => x.name)).toEqual(['degraded', 'down', 'unknown', 'up'])
    // Paged after deciding: total counts every match.
    await t.db.sql`insert into targets (address, name, interval_s, enabled) values ('127.0.9.5', 'unknown-2', 60, true), ('127.0.9.6', 'unknown-3', 60, true)`
    const page = await t.app.inject({ url: '/targets/?state=unknown&sort=name&limit=2&offset=1', headers: t.viewer })
    expect(page.json<TargetOut[]>().map((x) => x.name)).toEqual(['unknown-2', 'unknown-3'])
    expect(page.headers['x-total-count']).toBe('3')
  })

  it('refuses a state that is none with a 422 naming state, never a 500', async () => {
    for (const bad of ['sideways', '%00', '%ED%A0%80', 'up%00', 'fe80::1%25eth0', '0000-01-01T00:00:00Z', '9'.repeat(30), 'x'.repeat(100_000)]) {
      const res = await t.app.inject({ url: `/targets/?state=${bad}`, headers: t.viewer })
      expect([400, 414, 422], bad.slice(0, 20)).toContain(res.statusCode)
      if (res.statusCode === 422) expect(JSON.stringify(res.json().detail)).toContain('state')
      else expect(res.json().detail).toEqual(expect.any(String))
    }
  })

  it('follows a change at once: an outage that closes makes the target answer again', async () => {
    await t.db.sql`update outages set ended_at = now() - interval '1 second' where target_id = ${ids.down!} and ended_at is null`
    await t.db.sql`insert into samples (time, target_id, seq, rtt_us, ttl, status) values (now(), ${ids.down!}, 0, 250, 64, 0)`
    const one = await get<TargetOut>(`/targets/${ids.down}`)
    // 40 of the window's echoes were lost: degraded, since it came back (the outage's end)
    expect(one.state).toBe('degraded')
    expect(Date.parse(one.state_since)).toBeGreaterThan(Date.parse(times.down!))
    expect(await badgeState(ids.down!)).toBe('degraded')
  })

  it('compresses JSON for clients that accept it, and a CSV export to the same rows', async () => {
    const plain = await t.app.inject({ url: '/targets/', headers: t.viewer })
    expect(plain.headers['content-encoding']).toBeUndefined()
    const gz = await t.app.inject({ url: '/targets/', headers: { ...t.viewer, 'accept-encoding': 'gzip' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString('utf8'))).toEqual(plain.json())
    const br = await t.app.inject({ url: '/targets/', headers: { ...t.viewer, 'accept-encoding': 'br, gzip' } })
    expect(br.headers['content-encoding']).toBe('br')
    // small answers go as they are
    const small = await t.app.inject({ url: `/targets/${ids.up}`, headers: { ...t.viewer, 'accept-encoding': 'gzip' } })
    expect(small.headers['content-encoding']).toBeUndefined()

    const url = `/targets/${ids.degraded}/logs/export`
    const csv = await t.app.inject({ url, headers: t.viewer })
    const csvGz = await t.app.inject({ url, headers: { ...t.viewer, 'accept-encoding': 'gzip' } })
    expect(csvGz.headers['content-encoding']).toBe('gzip')
    expect(csvGz.headers['content-disposition']).toBe(csv.headers['content-disposition'])
    const rows = gunzipSync(csvGz.rawPayload).toString('utf8')
    expect(rows).toBe(csv.body)
    expect(rows.split('\r\n').length).toBeGreaterThan(100)
  })
})
