import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestDatabase, openTestDatabase } from '../helpers/db.js'
import { type ProbeHarness, sleep, startProbe } from '../helpers/probe.js'
import { ENGINES, cutServerDatabase, freezeServer } from '../helpers/engines.js'

// The database made unavailable while 1,000 targets are probed every second: first it crashes (embedded:
// the engine process is killed, connections refused until the supervisor has restarted it; server: every
// session terminated and connections refused for 6 s), then it is frozen for 30 s (every query hangs).
// Afterwards every echo the scheduler sent is stored, exactly once.
describe.each(ENGINES)('loss-free ingest through database outages (%s engine)', (engine) => {
  let db: TestDatabase
  let probe: ProbeHarness | undefined
  beforeAll(async () => {
    db = await openTestDatabase({ engine })
  })
  afterAll(async () => {
    await probe?.stop()
    await db?.destroy()
  })

  it('keeps every sample of 1,000 targets across an engine crash and a 30 s freeze', { timeout: 120_000 }, async () => {
    await db.sql`
      insert into targets (address, interval_s, packets, timeout_ms)
      select '127.0.' || (10 + g / 250) || '.' || (1 + g % 250), 1, 1, 1000 from generate_series(0, 999) g`
    probe = await startProbe(db.sql)
    await sleep(3000)

    // 1. crash: the writer's inserts fail until the database is back
    if (engine === 'embedded') {
      const crashed = db.engine!.pid
      process.kill(crashed, 'SIGKILL')
      await sleep(6000)
      // the supervisor restarts it (seconds, more on a loaded machine)
      for (let i = 0; i < 60 && db.engine!.pid === crashed; i++) await sleep(250)
      expect(db.engine!.pid).not.toBe(crashed)
    } else {
      await cutServerDatabase(db.connectTo, 6000)
    }

    // 2. freeze for 30 s: queries hang, the buffer grows
    const frozen = db.engine?.pid
    const thaw = frozen ? () => process.kill(frozen, 'SIGCONT') : await freezeServer()
    if (frozen) process.kill(frozen, 'SIGSTOP')
    await sleep(10_000)
    const during = probe.writer.stats()
    expect(during.buffered).toBeGreaterThan(5000) // ~1,000 samples a second pile up
    await sleep(20_000)
    thaw()
    await sleep(4000)

    await probe.stop() // flushes
    const expected = probe.rounds.reduce((n, r) => n + r.sent, 0)
    const w = probe.writer.stats()
    expect(w).toMatchObject({ buffered: 0, dropped: 0 })
    expect(w.failures).toBeGreaterThan(0) // it really had to retry
    expect(expected).toBeGreaterThan(35_000) // ~40 s × 1,000 targets
    const [row] = await db.sql<{ n: number; distinctRows: number; lost: number }[]>`
      select count(*)::int as n, count(distinct (target_id, time, seq))::int as distinct_rows,
             count(*) filter (where rtt_us is null)::int as lost
      from samples`
    expect(row!.n).toBe(expected)
    expect(row!.distinctRows).toBe(row!.n)
    expect(row!.lost).toBe(0)
    probe = undefined
  })
})
