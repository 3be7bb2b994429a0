// Scheduled traceroutes and path history on both engines, with the real traceroute binary through the
// network lab's router chain: a schedule runs at once and then every interval with 3 probes per hop
// (per-hop loss and mean RTT kept), a new route shows as a second path in the history and hop by hop in
// the diff, two schedulers on one database run a due schedule once, paused targets are skipped.
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPathScheduler } from '../../src/traceroute/path-scheduler.js'
import { createTracerouteRunner } from '../../src/traceroute/runner.js'
import { createTracerouteService } from '../../src/traceroute/traceroute.service.js'
import type { PathDiffOut, PathHistoryOut, ScheduleOut } from '../../src/traceroute/traceroute.schema.js'
import { oneLine, runCli, show } from '../cli/cli.js'
import { ADMIN, type TestApp, buildTestApp } from '../helpers/app.js'
import { tempDir, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type Lab, addChainShortcut, startLab } from '../helpers/lab.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.each(ENGINES)('traceroute schedules and path history (%s engine)', (engine) => {
  let lab: Lab
  let t: TestApp
  let targetId: number
  let removeShortcut: (() => Promise<void>) | null = null

  beforeAll(async () => {
    lab = await startLab(['chain'])
    t = await buildTestApp(engine, { TRACEROUTE_SCHEDULE_ENABLED: 'true', TRACEROUTE_SCHEDULE_POLL_S: '1' })
    await t.app.ready()
    const res = await t.app.inject({ method: 'POST', url: '/targets/', headers: t.admin, payload: { ip: lab.chain.end, name: 'chain-end' } })
    targetId = res.json<{ id: number }>().id
  })
  afterAll(async () => {
    await removeShortcut?.()
    await t?.close()
    await lab?.stop()
  })

  const req = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: Record<string, unknown>, headers = t.admin) =>
    t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) })
  const scheduledRuns = async () =>
    (await t.db.sql<{ id: number }[]>`select id::int from traceroutes where target_id = ${targetId} and actor = 'schedule' order by id`).map((r) => r.id)
  async function waitForRuns(n: number, timeoutMs = 20_000): Promise<number[]> {
    const t0 = Date.now()
    for (;;) {
      const runs = await scheduledRuns()
      if (runs.length >= n) return runs
      if (Date.now() - t0 > timeoutMs) {
        const [s] = await t.db.sql`select next_run_at, last_run_at, last_error from traceroute_schedules where target_id = ${targetId}`
        throw new Error(`timed out waiting for ${n} scheduled runs (have ${runs.length}); schedule: ${JSON.stringify(s ?? null)}`)
      }
      await sleep(250)
    }
  }

  it('runs a schedule at once and then every interval, 3 probes per hop, and records its last run', async () => {
    const none = await req('GET', `/targets/${targetId}/traceroute-schedule`)
    expect([none.statusCode, none.json()]).toEqual([200, null])
    expect((await req('PUT', `/targets/${targetId}/traceroute-schedule`, { interval_s: 60 }, t.viewer)).statusCode).toBe(403)
    const put = await req('PUT', `/targets/${targetId}/traceroute-schedule`, { interval_s: 60, max_hops: 10 })
    expect(put.statusCode, put.body).toBe(200)
    expect(put.json<ScheduleOut>()).toMatchObject({ target_id: targetId, interval_s: 60, max_hops: 10, queries: 3, last_run_at: null, last_error: null, created_by: 'admin' })

    const [first] = await waitForRuns(1)
    const history = (await req('GET', `/targets/${targetId}/path-history`, undefined, t.viewer)).json<PathHistoryOut>()
    expect(history.runs.map((r) => [r.id, r.reached, r.hop_count, r.path_changed])).toEqual([[first, true, 4, false]])
    const hops = history.runs[0]!.hops
    expect(hops.map((h) => h.ip)).toEqual(lab.chain.hops)
    for (const h of hops) {
      expect(h).toMatchObject({ sent: 3, loss_pct: 0 })
      expect(h.rtt_avg_ms).toBeGreaterThan(0)
    }
    expect(history.paths).toEqual([{ path_hash: expect.stringMatching(/^[0-9a-f]{64}$/), hops: lab.chain.hops, runs: 1, first_seen: history.runs[0]!.started_at, last_seen: history.runs[0]!.started_at }])

    // The next run is an interval after the claim; nothing runs before it.
    await sleep(2500)
    expect(await scheduledRuns()).toEqual([first])
    const s = (await req('GET', `/targets/${targetId}/traceroute-schedule`)).json<ScheduleOut>()
    expect(s.last_error).toBeNull()
    expect(Date.parse(s.last_run_at!)).toBeGreaterThan(Date.parse(put.json<ScheduleOut>().created_at))
    const claimedAt = Date.parse(s.next_run_at) - 60_000
    expect(Math.abs(claimedAt - Date.parse(history.runs[0]!.started_at))).toBeLessThan(5000)
  })

  it('shows a new route as a second path, with the path change, and the two runs hop by hop', async () => {
    const shortcut = await addChainShortcut(lab)
    removeShortcut = shortcut.remove
    await t.db.sql`update traceroute_schedules set next_run_at = now() where target_id = ${targetId}`
    const [a, b] = await waitForRuns(2)
    const history = (await req('GET', `/targets/${targetId}/path-history`)).json<PathHistoryOut>()
    expect(history.runs.map((r) => [r.id, r.hop_count, r.path_changed])).toEqual([
      [a, 4, false],
      [b, 3, true],
    ])
    expect(history.paths.map((p) => [p.hops, p.runs])).toEqual([
      [lab.chain.hops, 1],
      [[shortcut.via, lab.chain.hops[2], lab.chain.end], 1],
    ])
    const [event] = await t.db.sql<{ actor: string }[]>`select actor from events where target_id = ${targetId} and type = 'path_change'`
    expect(event).toEqual({ actor: 'schedule' })

    const diff = (await req('GET', `/targets/${targetId}/path-diff?a=${a}&b=${b}`, undefined, t.viewer)).json<PathDiffOut>()
    expect(diff.same_path).toBe(false)
    expect(diff.hops.map((h) => [h.hop, h.a.ip, h.b.ip, h.changed])).toEqual([
      [1, lab.chain.hops[0], shortcut.via, true],
      [2, lab.chain.hops[1], lab.chain.hops[2], true],
      [3, lab.chain.hops[2], lab.chain.end, true],
      [4, lab.chain.end, null, true],
    ])
    expect(diff.hops[3]!.b).toEqual({ ip: null, loss_pct: null, rtt_avg_ms: null })
    expect((await req('GET', `/targets/${targetId}/path-diff?a=${a}&b=${a}`)).json<PathDiffOut>()).toMatchObject({ same_path: true })
    // A window without runs, and one that ends before the second run.
    expect((await req('GET', `/targets/${targetId}/path-history?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`)).json<PathHistoryOut>()).toMatchObject({ runs: [], paths: [] })
    const secondAt = history.runs[1]!.started_at
    expect((await req('GET', `/targets/${targetId}/path-history?to=${encodeURIComponent(secondAt)}`)).json<PathHistoryOut>().runs.map((r) => r.id)).toEqual([a])
    await shortcut.remove()
    removeShortcut = null
  })

  it('runs a due schedule once when three schedulers share the database, and never for a paused target', async () => {
    const runner = createTracerouteRunner({ bin: 'traceroute' })
    const services = [0, 1].map(() => createTracerouteService({ sql: t.db.sql, runner, concurrency: 2, log: testLog }))
    const schedulers = services.map((service) => createPathScheduler({ sql: t.db.sql, service, log: testLog, pollMs: 60_000 }))
    // The app's own scheduler (polling every second) claims beside these two.
    await req('DELETE', `/targets/${targetId}/traceroute-schedule`)
    const before = (await scheduledRuns()).length
    await t.db.sql`insert into traceroute_schedules (target_id, interval_s, max_hops, queries, next_run_at) values (${targetId}, 3600, 10, 1, now())`
    await Promise.all(schedulers.map((s) => s.tick()))
    await Promise.all(schedulers.map((s) => s.stop()))
    await sleep(3000) // had the app's scheduler claimed it, its run ends within this
    expect((await scheduledRuns()).length - before).toBe(1)
    expect(schedulers.map((s) => s.stats().runs).reduce((a, b) => a + b)).toBeLessThanOrEqual(1)

    await t.app.inject({ method: 'POST', url: `/targets/${targetId}/pause`, headers: t.admin })
    await t.db.sql`update traceroute_schedules set next_run_at = now() where target_id = ${targetId}`
    await Promise.all(schedulers.map((s) => s.tick()))
    await Promise.all(schedulers.map((s) => s.stop()))
    expect((await scheduledRuns()).length - before).toBe(1)
    for (const s of services) s.close()
    await t.app.inject({ method: 'POST', url: `/targets/${targetId}/resume`, headers: t.admin })
  })

  it('refuses bad schedules and windows naming the field, and answers 404 for what is not there', async () => {
    const cases: [string, string, Record<string, unknown> | undefined, number, string | null][] = [
      ['PUT', `/targets/${targetId}/traceroute-schedule`, { interval_s: 59 }, 422, 'body.interval_s'],
      ['PUT', `/targets/${targetId}/traceroute-schedule`, { interval_s: 600, queries: 11 }, 422, 'body.queries'],
      ['PUT', `/targets/${targetId}/traceroute-schedule`, { interval_s: 600, max_hops: 0 }, 422, 'body.max_hops'],
      ['PUT', `/targets/${targetId}/traceroute-schedule`, { interval_s: '600\u0000' }, 422, 'body.interval_s'],
      ['PUT', '/targets/424242/traceroute-schedule', { interval_s: 600 }, 404, null],
      ['PUT', '/targets/99999999999999999999/traceroute-schedule', { interval_s: 600 }, 422, 'params.id'],
      ['GET', `/targets/${targetId}/path-history?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, undefined, 422, 'querystring.from'],
      ['GET', `/targets/${targetId}/path-history?from=0000-01-01T00:00:00Z`, undefined, 422, 'querystring.from'],
      ['GET', `/targets/${targetId}/path-history?limit=0`, undefined, 422, 'querystring.limit'],
      ['GET', `/targets/${targetId}/path-diff?a=1`, undefined, 422, 'querystring.b'],
      ['GET', `/targets/${targetId}/path-diff?a=1&b=999999`, undefined, 404, null],
      ['GET', '/targets/424242/path-history', undefined, 404, null],
    ]
    const got = []
    for (const [method, url, payload] of cases) {
      const res = await req(method as 'GET', url, payload)
      const body = res.json<{ detail: string | { loc: string[] }[] }>()
      got.push([res.statusCode, Array.isArray(body.detail) ? body.detail.map((d) => d.loc.join('.'))[0] : null])
    }
    expect(got).toEqual(cases.map(([, , , status, field]) => [status, field]))
    // Removing: the runs stay; a second removal is a 404.
    await req('PUT', `/targets/${targetId}/traceroute-schedule`, { interval_s: 3600 })
    expect((await req('DELETE', `/targets/${targetId}/traceroute-schedule`)).json()).toEqual({ message: 'Traceroute schedule removed', id: targetId })
    expect((await req('DELETE', `/targets/${targetId}/traceroute-schedule`)).statusCode).toBe(404)
    expect((await scheduledRuns()).length).toBeGreaterThanOrEqual(3)
  })

  it('pingscope traceroute --schedule, --paths and --unschedule do the same from the CLI', { timeout: 180_000 }, async () => {
    const home = tempDir('pingscope-home-')
    const env = { ...t.db.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config') }
    try {
      expect((await runCli(['login', '-u', ADMIN.username, '-q'], env, `${ADMIN.password}\n`)).code).toBe(0)
      const id = String(targetId)
      const refused = async (args: string[]) => {
        const r = await runCli(['traceroute', id, ...args], env)
        return [r.code, oneLine(r)]
      }
      expect(await refused(['--schedule', '30s'])).toEqual([2, 'pingscope: --schedule: must be >= 60 (got "30")'])
      expect(await refused(['--schedule', 'often'])).toEqual([2, 'pingscope: --schedule: must be a duration such as 30s, 5m, 2h or 1d (got "often")'])
      expect(await refused(['--schedule', '5m', '--queries', '11'])).toEqual([2, 'pingscope: --queries: must be <= 10 (got "11")'])
      expect(await refused(['--paths', '--history'])).toEqual([2, 'pingscope: --history, --schedule, --unschedule and --paths: give one'])
      expect(await refused(['--paths', '--since', 'forever'])).toEqual([2, 'pingscope: --since: must be a duration such as 15m, 1h, 24h, 30d or 1y (got "forever")'])

      // Counted before the command: its first run is due at once and may be done before the CLI exits.
      const before = (await scheduledRuns()).length
      const set = await runCli(['traceroute', id, '--schedule', '10m', '--queries', '2', '--json'], env)
      expect(set.code, show(set)).toBe(0)
      expect(set.json()).toMatchObject({ target_id: targetId, interval_s: 600, queries: 2, max_hops: 20, created_by: 'admin' })
      await waitForRuns(before + 1, 60_000)
      const paths = await runCli(['traceroute', id, '--paths', '--since', '1h', '--json'], env)
      expect(paths.code, show(paths)).toBe(0)
      const doc = paths.json<PathHistoryOut>()
      expect(doc.runs.at(-1)!.hops.every((h) => h.sent === 2)).toBe(true)
      expect(doc.paths.length).toBeGreaterThanOrEqual(2)
      const human = (await runCli(['traceroute', id, '--paths'], env)).stdout
      expect(human).toMatch(new RegExp(`^${doc.runs.length} runs, ${doc.paths.length} paths, \\d+ changes?$`, 'm'))
      expect(human).toMatch(/^HOP\s+ADDRESS\s+LOSS\s+AVG RTT\s+PROBES$/m)

      expect((await runCli(['traceroute', id, '--unschedule'], env)).code).toBe(0)
      expect(await refused(['--unschedule'])).toEqual([1, 'pingscope: No traceroute schedule for this target'])
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
