import { execFileSync, spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { phaseMs } from '../../src/probe/slots.js'
import { type TestDatabase, type TestStore, createTestStore, openTestDatabase, tempDir } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { CLI, type Spawned, freePort, removeStoreAfterEngine, spawnCli, stopSpawned, waitForHealthy } from '../helpers/process.js'

// `pingscope probe` (= `serve --no-api`): a probe process of the fleet and nothing else. Beside a
// `pingscope serve` on the same database it takes its share of the targets, every target is probed once
// per round, it opens no port (it is given the serve's PORT: listening would fail), runs no policy job
// and no alerting; on SIGTERM its targets go back to the serve at once. Without ICMP it refuses to run.

const TARGETS = 60
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const slotOf = (targetId: number, t: number) => Math.floor((t - phaseMs(targetId, 1000)) / 1000)

interface Health {
  probe: { leases: { held: number } | null }
  probes: { name: string; state: string; assigned: number }[]
}

describe.each(ENGINES)('pingscope probe: a probe-only process of the fleet (%s engine)', (engine) => {
  const children: Spawned[] = []
  let store: TestStore | undefined
  let db: TestDatabase | undefined

  afterEach(async () => {
    await stopSpawned(children.splice(0))
    await db?.destroy({ keep: true })
    if (store) await removeStoreAfterEngine(store)
    store = undefined
    db = undefined
  })

  it('takes its share beside a serve, probes each target once per round, opens no port, and hands over on SIGTERM', { timeout: 240_000 }, async () => {
    store = await createTestStore(engine, tempDir(), { migrated: true })
    db = await openTestDatabase({ engine, store, migrate: false })
    const sql = db.sql
    await sql`
      insert into targets (address, interval_s, packets, timeout_ms)
      select '127.31.' || (g / 250) || '.' || (g % 250 + 1), 1, 1, 1000 from generate_series(0, ${TARGETS - 1}) g`
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const env = { ...store.env, PORT: String(port), LOG_LEVEL: 'info', WRITER_FLUSH_MS: '200', ALERTS_EVAL_S: '1' }
    const serve = spawnCli(['serve'], { ...env, PROBE_NAME: 'main' })
    children.push(serve)
    await waitForHealthy(url, 120_000)
    const probe = spawnCli(['probe'], { ...env, PROBE_NAME: 'side' })
    children.push(probe)

    const health = async () => (await (await fetch(`${url}/health`)).json()) as Health
    const t0 = Date.now()
    let h = await health()
    while (Date.now() - t0 < 60_000 && !(h.probes.length === 2 && h.probes.every((p) => p.state === 'live' && p.assigned === TARGETS / 2))) {
      await sleep(250)
      h = await health()
    }
    expect(h.probes.map((p) => [p.name, p.state, p.assigned])).toEqual([
      ['main', 'live', TARGETS / 2],
      ['side', 'live', TARGETS / 2],
    ])
    const settledAt = Date.now()
    await sleep(6000)
    expect(probe.child.exitCode).toBeNull() // still probing: it never tried to listen on the serve's port
    expect(probe.stderr() + probe.stdout()).toMatch(/pingscope probe is running \(no API\)/)
    expect(probe.stderr() + probe.stdout()).not.toMatch(/EADDRINUSE|listening|pingscope is serving/)

    const stoppedAt = Date.now()
    probe.child.kill('SIGTERM')
    expect((await probe.exited).code).toBe(0)
    const t1 = Date.now()
    while (Date.now() - t1 < 10_000 && (await health()).probe.leases?.held !== TARGETS) await sleep(200)
    expect((await health()).probe.leases?.held).toBe(TARGETS)
    expect((await health()).probes.find((p) => p.name === 'side')).toMatchObject({ state: 'stopped', assigned: 0 })
    await sleep(3000)
    const endAt = Date.now()

    // One sample per target per slot, whichever process took it; none missing while both ran.
    const rows = await sql<{ targetId: number; t: number }[]>`select target_id, (extract(epoch from time) * 1000)::float8 as t from samples order by target_id, time`
    const slots = new Map<number, number[]>()
    for (const r of rows) slots.set(r.targetId, [...(slots.get(r.targetId) ?? []), slotOf(r.targetId, r.t)])
    expect(slots.size).toBe(TARGETS)
    const doubled = [...slots].flatMap(([id, ks]) => ks.filter((k, i) => i > 0 && k === ks[i - 1]).map((k) => `${id}@${k}`))
    expect(doubled).toEqual([])
    const missing = [...slots].flatMap(([id, ks]) => {
      const have = new Set(ks)
      const out: string[] = []
      for (let k = slotOf(id, settledAt) + 1; phaseMs(id, 1000) + k * 1000 < stoppedAt - 1000; k++) if (!have.has(k)) out.push(`${id}@${k}`)
      return out
    })
    expect(missing).toEqual([])
    // After the handover every target is probed again within 2 rounds of the stop.
    const late = [...slots].filter(([id, ks]) => !ks.some((k) => k >= slotOf(id, stoppedAt) + 2 && k <= slotOf(id, endAt) - 1)).map(([id]) => id)
    expect(late).toEqual([])
  })

  it('refuses to run without ICMP (no CAP_NET_RAW) or with probing disabled: exit 1, one line', { timeout: 120_000 }, async () => {
    store = await createTestStore(engine, tempDir(), { migrated: true })
    execFileSync('chown', ['-R', 'nobody:nogroup', store.dataDir])
    const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, CLI, 'probe'], {
      cwd: store.dataDir,
      env: { PATH: process.env.PATH ?? '', ...store.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
    expect(code).toBe(1)
    const lines = err.trim().split('\n').filter((l) => l.startsWith('pingscope:'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^pingscope: ICMP needs raw sockets.*CAP_NET_RAW/)
    expect(err).not.toMatch(/\n\s+at /)

    const disabled = spawnCli(['serve', '--no-api'], { ...store.env, PROBE_ENABLED: 'false', LOG_LEVEL: 'warn' })
    children.push(disabled)
    expect((await disabled.exited).code).toBe(1)
    expect(disabled.stderr().trim().split('\n').filter((l) => l.startsWith('pingscope:'))).toEqual([
      'pingscope: probing is disabled by PROBE_ENABLED=false: a probe-only process has nothing to do',
    ])
  })
})
