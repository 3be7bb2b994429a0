import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations } from '../src/db/migrate.js'
import { startServer } from '../src/server.js'
import { type TestStore, createTestStore, testConfig, testLog } from './helpers/db.js'
import { ENGINES } from './helpers/engines.js'

describe.each(ENGINES)('pingscope server (%s engine)', (engine) => {
  let store: TestStore
  let config: ReturnType<typeof testConfig>
  beforeAll(async () => {
    store = await createTestStore(engine)
    config = testConfig({ ...store.env, PORT: '0' })
  })
  afterAll(() => store?.remove())
  const latest = loadMigrations().at(-1)!.version

  it('starts on a fresh database, migrates and reports health', async () => {
    const server = await startServer(config, testLog)
    try {
      const res = await fetch(`${server.url}/health`)
      expect(res.status).toBe(200)
      const body = await res.json()
      expect(body).toMatchObject({
        status: 'ok',
        database:
          engine === 'embedded'
            ? { mode: 'embedded', reachable: true, schema_version: latest, engine: { owned: true } }
            : { mode: 'server', reachable: true, schema_version: latest },
        // against a server TimescaleDB's own scheduler runs the policies, and pingscope watches it
        jobs: engine === 'embedded' ? { mode: 'pingscope', running: true, takenOver: [] } : { mode: 'timescaledb', running: true },
      })
      // What it took over, if anything, it says why (the test lane's TimescaleDB fails its background jobs).
      for (const t of (body as { jobs: { takenOver: { reason: string }[] } }).jobs.takenOver) expect(t.reason).toMatch(/^TimescaleDB's scheduler /)
      // Paused: a documentation address is data, never probed.
      await server.db.sql`insert into targets (address, name, enabled) values ('192.0.2.10', 'kept across restarts', false)`
      const [t] = await server.db.sql`select id from targets where address = '192.0.2.10'`
      await server.db.sql`
        insert into samples (time, target_id, seq, rtt_us, ttl)
        select now() - make_interval(secs => g), ${t!.id}, 0, 1000 + g, 64 from generate_series(1, 600) g`
      const unknown = await fetch(`${server.url}/nope`)
      expect(unknown.status).toBe(404)
      expect(await unknown.json()).toEqual({ detail: 'Not Found' })
    } finally {
      await server.stop()
    }
  })

  it('restarts on the existing database with data, hypertables and aggregates intact', async () => {
    const server = await startServer(config, testLog)
    try {
      const sql = server.db.sql
      const [m] = await sql`select count(*)::int as n from schema_migrations`
      expect(m!.n).toBe(latest) // nothing re-applied
      const [s] = await sql`select count(*)::int as n from samples`
      expect(s!.n).toBe(600)
      const hyper = await sql`select hypertable_name from timescaledb_information.hypertables order by 1`
      expect(hyper.map((h) => h.hypertableName)).toContain('samples')
      const caggs = await sql`select view_name from timescaledb_information.continuous_aggregates order by 1`
      expect(caggs.map((c) => c.viewName)).toEqual(['samples_1h', 'samples_1m', 'samples_site_1h', 'samples_site_1m'])
      // the real-time 1-minute tier answers straight after a reopen (TimescaleDB is loaded first)
      const [agg] = await sql`select sum(sent)::int as sent from samples_1m`
      expect(agg!.sent).toBe(600)
    } finally {
      await server.stop()
    }
  })
})
