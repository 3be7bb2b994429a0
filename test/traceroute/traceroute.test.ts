// POST /targets/:id/traceroute and GET /targets/:id/traceroutes with the real traceroute binary against
// the network lab's chain (root -> r1 -> r2 -> r3 -> end), and the error paths (missing binary, timeout,
// queue, shutdown) with a stand-in script that never traces anything. Needs root; see scripts/lab/README.md.
import { execFile } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { tempDir } from '../helpers/db.js'
import { type Lab, addChainShortcut, startLab } from '../helpers/lab.js'
import { ENGINES } from '../helpers/engines.js'

const run = promisify(execFile)

interface Hop {
  hop: number
  host: string | null
  ip: string | null
  rtt_ms: number | null
  is_timeout: boolean
  raw: string
}
interface Traceroute {
  id: number
  target_id: number
  target_ip: string
  started_at: string
  finished_at: string
  duration_ms: number
  max_hops: number
  hop_count: number
  reached: boolean
  path_changed: boolean
  hops: Hop[]
}

async function addTarget(t: TestApp, address: string): Promise<number> {
  const [row] = await t.db.sql<{ id: number }[]>`insert into targets (address) values (${address}) returning id`
  return row!.id
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

describe.each(ENGINES)('traceroute through the lab chain (%s engine)', (engine) => {
  let lab: Lab
  let t: TestApp
  let targetId: number
  let altLink: string | null = null

  beforeAll(async () => {
    lab = await startLab(['chain'])
    t = await buildTestApp(engine)
    targetId = await addTarget(t, lab.chain.end)
  })

  afterAll(async () => {
    if (altLink) await run('ip', ['link', 'del', altLink]).catch(() => undefined)
    await t?.close()
    await lab?.stop()
  })

  const trace = (query = 'max_hops=10&timeout=10', headers = t.admin) =>
    t.app.inject({ method: 'POST', url: `/targets/${targetId}/traceroute?${query}`, headers })

  async function addShortcut(): Promise<{ via: string }> {
    const shortcut = await addChainShortcut(lab)
    altLink = shortcut.link
    return shortcut
  }

  const pathChanges = () =>
    t.db.sql<{ message: string; actor: string; data: { tracerouteId: number; previousTracerouteId: number; oldHops: string[]; newHops: string[] } }[]>`
      select message, actor, data from events where target_id = ${targetId} and type = 'path_change' order by id`

  let first: Traceroute

  it('traces the chain end in four hops, stores the run and lists it', async () => {
    expect((await t.app.inject({ url: '/health' })).json()).toMatchObject({ traceroute: { available: true } })
    const res = await trace()
    expect(res.statusCode, res.body).toBe(200)
    first = res.json<Traceroute>()
    expect(first).toMatchObject({ target_id: targetId, target_ip: lab.chain.end, max_hops: 10, hop_count: 4, reached: true, path_changed: false })
    expect(first.hops.map((h) => h.ip)).toEqual(lab.chain.hops)
    for (const h of first.hops) {
      expect(h).toEqual({
        hop: h.hop,
        host: h.ip,
        ip: h.ip,
        rtt_ms: expect.any(Number),
        is_timeout: false,
        sent: 1,
        rtts_ms: [h.rtt_ms],
        loss_pct: 0,
        rtt_avg_ms: h.rtt_ms,
        raw: `${h.hop}  ${h.ip}  ${h.rtt_ms!.toFixed(3)} ms`,
      })
    }
    expect(first.duration_ms).toBeGreaterThan(0)
    expect(Date.parse(first.finished_at)).toBeGreaterThanOrEqual(Date.parse(first.started_at))

    const [row] = await t.db.sql`select target_id, max_hops, hop_count, reached, path_hash, actor, jsonb_array_length(hops) as n from traceroutes where id = ${first.id}`
    expect(row).toMatchObject({ targetId, maxHops: 10, hopCount: 4, reached: true, actor: 'admin', n: 4, pathHash: expect.stringMatching(/^[0-9a-f]{64}$/) })

    const history = await t.app.inject({ method: 'GET', url: `/targets/${targetId}/traceroutes`, headers: t.viewer })
    expect(history.statusCode).toBe(200)
    expect(history.json()).toEqual([first])
    expect(await pathChanges()).toEqual([])
  })

  it('records a path change when the end host is reached another way, and when the old way is back', async () => {
    const { via } = await addShortcut()
    const res = await trace()
    expect(res.statusCode, res.body).toBe(200)
    const second = res.json<Traceroute>()
    expect(second).toMatchObject({ hop_count: 3, reached: true, path_changed: true })
    expect(second.hops.map((h) => h.ip)).toEqual([via, lab.chain.hops[2], lab.chain.end])

    let events = await pathChanges()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      actor: 'admin',
      message: `Path to ${lab.chain.end} changed: 4 hops (${lab.chain.hops.join(', ')}) → 3 hops (${via}, ${lab.chain.hops[2]}, ${lab.chain.end})`,
      data: { tracerouteId: second.id, previousTracerouteId: first.id, oldHops: lab.chain.hops, newHops: [via, lab.chain.hops[2], lab.chain.end] },
    })

    await run('ip', ['route', 'del', `${lab.chain.end}/32`])
    const third = (await trace()).json<Traceroute>()
    expect(third).toMatchObject({ hop_count: 4, path_changed: true })
    const fourth = (await trace()).json<Traceroute>()
    expect(fourth).toMatchObject({ hop_count: 4, path_changed: false })
    events = await pathChanges()
    expect(events.map((e) => e.data.tracerouteId)).toEqual([second.id, third.id])

    const history = await t.app.inject({ method: 'GET', url: `/targets/${targetId}/traceroutes?limit=3`, headers: t.admin })
    expect(history.json<Traceroute[]>().map((r) => [r.id, r.path_changed])).toEqual([
      [fourth.id, false],
      [third.id, true],
      [second.id, true],
    ])
  })

  it('documents both routes in the OpenAPI spec', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { parameters?: { name: string }[] }>> }>()
    expect(spec.paths['/targets/{id}/traceroute']?.post?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['id', 'max_hops', 'timeout']))
    expect(spec.paths['/targets/{id}/traceroutes']?.get).toBeDefined()
  })

  it('lets only admins run traceroutes', async () => {
    const res = await trace(undefined, t.viewer)
    expect(res.statusCode).toBe(403)
    expect((await t.app.inject({ method: 'POST', url: `/targets/${targetId}/traceroute` })).statusCode).toBe(401)
  })

  it('answers 404 for an unknown target', async () => {
    for (const req of [
      { method: 'POST' as const, url: '/targets/999999/traceroute' },
      { method: 'GET' as const, url: '/targets/999999/traceroutes' },
    ]) {
      const res = await t.app.inject({ ...req, headers: t.admin })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toEqual({ detail: 'Target not found' })
    }
  })

  it('answers 422 naming the field for out-of-range parameters', async () => {
    const cases: [string, string, string][] = [
      ['POST', `/targets/${targetId}/traceroute?max_hops=65`, 'max_hops'],
      ['POST', `/targets/${targetId}/traceroute?max_hops=0`, 'max_hops'],
      ['POST', `/targets/${targetId}/traceroute?timeout=0`, 'timeout'],
      ['POST', `/targets/${targetId}/traceroute?timeout=121`, 'timeout'],
      ['GET', `/targets/${targetId}/traceroutes?limit=101`, 'limit'],
    ]
    for (const [method, url, field] of cases) {
      const res = await t.app.inject({ method: method as 'GET', url, headers: t.admin })
      expect(res.statusCode, url).toBe(422)
      expect(res.json<{ detail: { loc: string[] }[] }>().detail[0]!.loc).toEqual(['querystring', field])
    }
    const runs = await t.db.sql`select count(*)::int as n from traceroutes where target_id = ${targetId}`
    expect(runs[0]!.n).toBe(4) // nothing ran for the rejected requests
  })
})

describe.each(ENGINES)('traceroute failures (%s engine)', (engine) => {
  it('answers 503 when the binary is missing', async () => {
    const t = await buildTestApp(engine, { TRACEROUTE_BIN: '/nonexistent/traceroute' })
    try {
      const id = await addTarget(t, '127.0.0.1')
      const res = await t.app.inject({ method: 'POST', url: `/targets/${id}/traceroute`, headers: t.admin })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toEqual({ detail: 'Traceroute binary not found on host' })
      expect((await t.db.sql`select count(*)::int as n from traceroutes`)[0]!.n).toBe(0)
      // said up front in /health (which stays ok: traceroute is optional), with the fix
      const health = (await t.app.inject({ url: '/health' })).json<{ status: string; traceroute: { available: boolean; error: string } }>()
      expect(health.status).toBe('ok')
      expect(health.traceroute.available).toBe(false)
      expect(health.traceroute.error).toMatch(/not found.*apt-get install traceroute/)
    } finally {
      await t.close()
    }
  })

  describe('with a stand-in binary that hangs', () => {
    // Ignores SIGTERM (inherited across exec), so only the SIGKILL after the grace period ends it.
    const dir = tempDir('pingscope-traceroute-')
    const bin = path.join(dir, 'traceroute')
    const pidFile = path.join(dir, 'pids')
    writeFileSync(bin, `#!/bin/sh\ntrap '' TERM\necho $$ >> '${pidFile}'\nexec sleep 60\n`)
    chmodSync(bin, 0o755)
    const pids = () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [])
    const waitForPids = async (n: number) => {
      for (let i = 0; i < 200 && pids().length < n; i++) await new Promise((r) => setTimeout(r, 25))
      expect(pids()).toHaveLength(n)
    }

    let t: TestApp
    let id: number
    beforeAll(async () => {
      t = await buildTestApp(engine, { TRACEROUTE_BIN: bin, TRACEROUTE_CONCURRENCY: '1' })
      id = await addTarget(t, '127.0.0.1')
    })
    afterAll(async () => {
      await t?.app.close()
      await t?.db.destroy()
      for (const pid of pids()) if (!isGone(pid)) process.kill(pid, 'SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    })

    const post = async (timeout: number) => {
      const t0 = performance.now()
      const res = await t.app.inject({ method: 'POST', url: `/targets/${id}/traceroute?timeout=${timeout}`, headers: t.admin })
      return { status: res.statusCode, detail: res.json<{ detail: string }>().detail, ms: performance.now() - t0 }
    }

    it('kills the process at the timeout and answers 503', async () => {
      const res = await post(1)
      expect(res).toMatchObject({ status: 503, detail: 'Traceroute timed out' })
      // 1 s timeout, then 1 s of SIGTERM grace before SIGKILL.
      expect(res.ms).toBeGreaterThanOrEqual(1900)
      expect(res.ms).toBeLessThan(5000)
      expect(pids()).toHaveLength(1)
      expect(isGone(pids()[0]!)).toBe(true)
      expect((await t.db.sql`select count(*)::int as n from traceroutes`)[0]!.n).toBe(0)
    })

    it('queues one request beyond the cap for at most its timeout and turns the next away', async () => {
      const running = post(3)
      await waitForPids(2)
      const [a, b] = await Promise.all([post(1), post(1)])
      const [queued, rejected] = a.ms > b.ms ? [a, b] : [b, a]
      expect(rejected).toMatchObject({ status: 503, detail: 'Too many traceroutes running' })
      expect(rejected.ms).toBeLessThan(900)
      expect(queued).toMatchObject({ status: 503, detail: 'Too many traceroutes running' })
      expect(queued.ms).toBeGreaterThanOrEqual(950)
      expect(await running).toMatchObject({ status: 503, detail: 'Traceroute timed out' })
      // The requests that gave up never started a process; the slot is free again.
      expect(pids()).toHaveLength(2)
      expect(pids().every(isGone)).toBe(true)
    })

    it('kills running traceroutes when the server closes', async () => {
      const running = post(60)
      await waitForPids(3)
      const t0 = performance.now()
      await t.app.close()
      const res = await running
      expect(res).toMatchObject({ status: 503, detail: 'Traceroute cancelled: server shutting down' })
      expect(performance.now() - t0).toBeLessThan(3000)
      expect(pids().every(isGone)).toBe(true)
    })
  })
})
