import { execFileSync, spawn } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestStore, openTestDatabase, tempDir } from './helpers/db.js'
import { ENGINES } from './helpers/engines.js'
import { CLI, freePort, spawnCli, waitForHealthy } from './helpers/process.js'

describe('the built `pingscope` command', () => {
  const dataDir = tempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('serve: starts on the embedded default, answers /health, stops cleanly on SIGTERM', async () => {
    const port = await freePort()
    const p = spawnCli(['serve'], { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' })
    try {
      const { body } = await waitForHealthy(`http://127.0.0.1:${port}`, 90_000)
      expect(body).toMatchObject({ status: 'ok', database: { mode: 'embedded', reachable: true } })
      expect(existsSync(path.join(dataDir, 'engine.lock'))).toBe(true)
    } finally {
      p.child.kill('SIGTERM')
    }
    const { code } = await p.exited
    expect(code).toBe(0)
    expect(p.stderr()).toContain('pingscope is serving')
    // the engine it started is gone with it
    expect(existsSync(path.join(dataDir, 'engine.lock'))).toBe(false)
  })

  it('refuses bad configuration with one line per problem and exit code 2', async () => {
    const p = spawnCli(['serve'], { DATABASE_MODE: 'cloud', DATABASE_URL: 'not a url', PORT: '99999', RETENTION_RAW_DAYS: '-1' })
    const { code } = await p.exited
    expect(code).toBe(2)
    const lines = p.stderr().trim().split('\n')
    expect(lines).toHaveLength(4)
    for (const key of ['DATABASE_MODE', 'DATABASE_URL', 'PORT', 'RETENTION_RAW_DAYS']) {
      expect(lines.some((l) => l.startsWith(`pingscope: config: ${key}:`))).toBe(true)
    }
    expect(p.stderr()).not.toMatch(/at .*\.js:\d+/) // no stack trace
  })

  it('exits 2 with a one-line reason on an unknown command or flag', async () => {
    const p = spawnCli(['serve', '--bogus'], {})
    expect((await p.exited).code).toBe(2)
    expect(p.stderr()).toMatch(/unknown option '--bogus'/)
  })
})

describe.each(ENGINES)('pingscope serve and migrate (%s engine)', (engine) => {
  it('serve: probes targets and flushes every sample to the database on SIGTERM', async () => {
    const store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    await db.sql`insert into targets (address, interval_s, packets) select '127.0.4.' || g, 1, 2 from generate_series(1, 50) g`
    await db.destroy({ keep: true })
    const port = await freePort()
    // A long flush interval: without the flush on exit, the last samples would be lost.
    const p = spawnCli(['serve'], { ...store.env, PORT: String(port), LOG_LEVEL: 'info', WRITER_FLUSH_MS: '60000' })
    try {
      await waitForHealthy(`http://127.0.0.1:${port}`, 90_000)
      await new Promise((r) => setTimeout(r, 3000))
    } finally {
      p.child.kill('SIGTERM')
    }
    expect((await p.exited).code).toBe(0)
    const stopped = p
      .stderr()
      .split('\n')
      .filter((l) => l.includes('probe engine stopped'))
      .map((l) => JSON.parse(l) as { samplesWritten: number; samplesDropped: number; rounds: number })[0]!
    expect(stopped.samplesDropped).toBe(0)
    expect(stopped.rounds).toBeGreaterThanOrEqual(100) // 50 targets × ≥ 2 rounds
    expect(stopped.samplesWritten).toBe(stopped.rounds * 2)
    const again = await openTestDatabase({ engine, store, migrate: false })
    try {
      const [row] = await again.sql`select count(*)::int as n from samples`
      expect(row!.n).toBe(stopped.samplesWritten)
    } finally {
      await again.destroy()
    }
  })

  it('serve without CAP_NET_RAW: says once how to fix it, and the API keeps working', async () => {
    // Already migrated (a copy of the run's template: serve on a fresh directory is the first test's subject),
    // all of it owned by nobody, who runs the engine here.
    const store = await createTestStore(engine, tempDir(), { migrated: true })
    const dir = store.dataDir
    execFileSync('chown', ['-R', 'nobody:nogroup', dir])
    const port = await freePort()
    const child = spawn(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, CLI, 'serve'],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...store.env, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    try {
      const t0 = Date.now()
      let body: { status: string; probe: { running: boolean; error: string }; database: { reachable: boolean } } | undefined
      while (Date.now() - t0 < 90_000 && !body) {
        body = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.json() as never, () => undefined)
        if (!body) await new Promise((r) => setTimeout(r, 200))
      }
      expect(body!.database.reachable).toBe(true)
      expect(body!.status).toBe('degraded')
      expect(body!.probe.running).toBe(false)
      expect(body!.probe.error).toMatch(/CAP_NET_RAW.*setcap cap_net_raw\+ep.*cap_add/)
      expect(err.match(/ICMP needs raw sockets/g)).toHaveLength(1) // reported once
      expect(err).not.toMatch(/\n\s+at /) // no stack trace
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.on('exit', r))
      await store.remove()
    }
  })

  it('migrate: applies on a fresh database, then is a no-op', async () => {
    const store = await createTestStore(engine)
    try {
      const first = spawnCli(['migrate', '--json'], store.env)
      expect((await first.exited).code).toBe(0)
      const r1 = JSON.parse(first.stdout())
      expect(r1.applied.length).toBeGreaterThanOrEqual(2)
      const second = spawnCli(['migrate', '--json'], store.env)
      expect((await second.exited).code).toBe(0)
      expect(JSON.parse(second.stdout())).toEqual({ applied: [], version: r1.version })
    } finally {
      await store.remove()
    }
  })
})
