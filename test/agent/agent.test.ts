import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/auth.service.js'
import { hashPassword } from '../../src/auth/passwords.js'
import { createUser } from '../../src/auth/users.repo.js'
import { phaseMs } from '../../src/probe/slots.js'
import { type TestDatabase, type TestStore, createTestStore, openTestDatabase, tempDir } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type Spawned, freePort, removeStoreAfterEngine, spawnCli, stopSpawned, waitForHealthy } from '../helpers/process.js'

// Issue 12: the remote probe agent (`pingscope probe --server … --token …`), spawned beside a spawned
// `pingscope serve`, probing 20 loopback targets of its site at 1 s. The server is stopped for 60 s
// and restarted on the same database; while it is down the agent is restarted once. Every sample lands
// exactly once (never two in one slot of a target), no slot is missing except in the agent's own
// restart gap, the buffer drains once the server is back, and nothing was dropped.

const TARGETS = 20
const SITE = 'remote'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const slotOf = (targetId: number, t: number) => Math.floor((t - phaseMs(targetId, 1000)) / 1000)
const dueOf = (targetId: number, k: number) => phaseMs(targetId, 1000) + k * 1000

interface LogLine {
  time: number
  msg: string
  [k: string]: unknown
}
const logLines = (p: Spawned): LogLine[] =>
  p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
const logged = (p: Spawned, msg: string) => logLines(p).find((l) => l.msg === msg)

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(250)
  }
}

describe.each(ENGINES)('remote probe agent through a server outage and its own restart (%s engine)', (engine) => {
  const children: Spawned[] = []
  let store: TestStore | undefined
  let db: TestDatabase | undefined
  let agentDir: string | undefined

  afterEach(async () => {
    await stopSpawned(children.splice(0))
    await db?.destroy({ keep: true })
    if (store) await removeStoreAfterEngine(store)
    if (agentDir) rmSync(agentDir, { recursive: true, force: true })
    store = undefined
    db = undefined
    agentDir = undefined
  })

  it('stores every sample exactly once, misses only its own restart gap, drains its disk buffer and drops nothing', { timeout: 360_000 }, async () => {
    store = await createTestStore(engine, tempDir(), { migrated: true })
    db = await openTestDatabase({ engine, store, migrate: false })
    const sql = db.sql
    agentDir = tempDir('pingscope-agent-')
    const buffered = () => readdirSync(path.join(agentDir!, 'batches')).filter((f) => f.endsWith('.json.gz')).length
    // The agent's site only: the serve (site 'default') never probes them.
    const ids = (
      await sql<{ id: number }[]>`
        insert into targets (address, interval_s, packets, timeout_ms, sites)
        select '127.32.0.' || g, 1, 1, 1000, array[${SITE}] from generate_series(1, ${TARGETS}) g returning id`
    ).map((r) => r.id)
    const admin = await createUser(sql, { username: 'admin', passwordHash: await hashPassword('admin-password-123'), role: 'admin' })
    const { token } = await issueToken(sql, admin!, { name: 'edge', scope: 'probe', site: SITE })

    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const serveEnv = { ...store.env, PORT: String(port), LOG_LEVEL: 'warn', PROBE_NAME: 'main', ALERTS_ENABLED: 'false' }
    const serve1 = spawnCli(['serve'], serveEnv)
    children.push(serve1)
    await waitForHealthy(url, 120_000)
    // PROBE_SITE is irrelevant to the agent: its token decides the site.
    const agentEnv = { AGENT_DATA_DIR: agentDir, LOG_LEVEL: 'info', PROBE_SITE: 'ignored', PROBE_NAME: 'edge-agent' }
    const agent1 = spawnCli(['probe', '--server', url, '--token', token], agentEnv)
    children.push(agent1)
    const leased = async () =>
      (
        await sql<{ n: number }[]>`
          select count(*)::int as n from probe_leases l join probes p on p.id = l.probe_id
          where p.name = 'edge-agent' and l.site = ${SITE} and l.expires_at > now()`
      )[0]!.n
    await until('the agent leases every target', 60_000, async () => (await leased()) === TARGETS)
    const settledAt = Date.now() + 1000
    await sleep(8000)

    // The server goes away for 60 s.
    const downAt = Date.now()
    serve1.child.kill('SIGTERM')
    expect((await serve1.exited).code).toBe(0)
    await sleep(20_000)
    expect(buffered()).toBeGreaterThan(10) // one batch a second, kept on disk

    // The agent restarts while the server is down: it resumes its last assignment (alone in its site).
    agent1.child.kill('SIGTERM')
    expect((await agent1.exited).code).toBe(0)
    const stopped1 = logged(agent1, 'agent stopped probing')!
    const final1 = logged(agent1, 'agent stopped; buffered samples are sent at its next start')!
    expect(final1).toMatchObject({ droppedRows: 0 })
    expect(final1.bufferedRows as number).toBeGreaterThan(0)
    const agent2 = spawnCli(['probe', '--server', url, '--token', token], agentEnv)
    children.push(agent2)
    const started2 = await until('the restarted agent probes', 30_000, () => logged(agent2, 'agent probing'))
    expect(logged(agent2, 'agent: resuming the last assignment until the server answers')).toMatchObject({ targets: TARGETS, alone: true })
    expect(started2.targets).toBe(TARGETS)

    await sleep(Math.max(0, downAt + 60_000 - Date.now()))
    const serve2 = spawnCli(['serve'], serveEnv)
    children.push(serve2)
    await waitForHealthy(url, 120_000)
    const upAt = Date.now()
    await until('the agent buffer drains', 60_000, () => buffered() === 0)
    const drainedMs = Date.now() - upAt
    // Its tenure and leases were renewed, not taken anew.
    await until('the agent renews its leases', 20_000, async () => (await leased()) === TARGETS)
    await sleep(5000)

    agent2.child.kill('SIGTERM')
    expect((await agent2.exited).code).toBe(0)
    const stopped2 = logged(agent2, 'agent stopped probing')!
    const final2 = logged(agent2, 'agent stopped')!
    expect(final2).toMatchObject({ bufferedRows: 0, droppedRows: 0 })
    expect(buffered()).toBe(0)
    const state = path.join(agentDir, 'batches', 'buffer-state.json')
    expect(existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as { droppedRows: number }).droppedRows : 0).toBe(0)

    // Every sample stored once: one per target and slot (site included), all measured by the agent's site.
    const [site] = await sql<{ id: number }[]>`select id from sites where name = ${SITE}`
    const rows = await sql<{ targetId: number; siteId: number; t: number }[]>`
      select target_id, site_id, (extract(epoch from time) * 1000)::float8 as t from samples
      where target_id = any(${ids}::int[]) order by target_id, site_id, time`
    expect(new Set(rows.map((r) => r.siteId))).toEqual(new Set([site!.id]))
    const slots = new Map<number, number[]>()
    for (const r of rows) slots.set(r.targetId, [...(slots.get(r.targetId) ?? []), slotOf(r.targetId, r.t)])
    expect(slots.size).toBe(TARGETS)
    const doubled = [...slots].flatMap(([id, ks]) => ks.filter((k, i) => i > 0 && k === ks[i - 1]).map((k) => `${id}@${k}`))
    expect(doubled).toEqual([])
    // The samples the agent's two runs were told were new add up to what is stored.
    expect((final1.storedRows as number) + (final2.storedRows as number)).toBe(rows.length)

    // No slot missing, through the server's outage and restart, except in the agent's own restart gap.
    const gap = { from: stopped1.time - 1000, to: started2.time + 1000 }
    const missing: string[] = []
    let excused = 0
    for (const [id, ks] of slots) {
      const have = new Set(ks)
      for (let k = slotOf(id, settledAt) + 1; dueOf(id, k) < stopped2.time - 1000; k++) {
        if (have.has(k)) continue
        if (dueOf(id, k) >= gap.from && dueOf(id, k) <= gap.to) excused++
        else missing.push(`${id}@${k}`)
      }
    }
    expect(missing).toEqual([])
    const restartGapS = (started2.time - stopped1.time) / 1000
    console.log(
      `agent (${engine}): ${rows.length} samples, restart gap ${restartGapS.toFixed(1)} s (${excused} slots over ${TARGETS} targets), ` +
        `${final1.bufferedRows} rows buffered at its restart, buffer drained ${(drainedMs / 1000).toFixed(1)} s after the server was back`,
    )
    expect(excused).toBeLessThanOrEqual(TARGETS * Math.ceil(restartGapS + 2))
  })
})
