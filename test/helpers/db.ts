import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Config, loadConfig } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'
import { type Database, openDatabase } from '../../src/db/open.js'
import { createLogger } from '../../src/log.js'
import { EMBEDDED_TEMPLATE, type EngineKind, SERVER_TEMPLATE, type ServerDatabase, createServerDatabase } from './engines.js'
import { copyEmbeddedTemplate, holdPolicyJobs } from './templates.js'

export { holdPolicyJobs }

export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test')

export function tempDir(prefix = 'pingscope-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', ...env })
}

/** Where a test's data lives: what a child process (CLI, serve) needs in its environment to reach it. */
export interface TestStore {
  kind: EngineKind
  /** A temp directory of the test's own: the embedded engine's data, and room for files in both lanes. */
  dataDir: string
  /** `{ DATA_DIR }` (embedded) or `{ DATABASE_URL }` (server). */
  env: Record<string, string>
  /** Drops the server database and removes the directory (unless `keep`). */
  remove(opts?: { keep?: boolean }): Promise<void>
}

/**
 * A store on the given engine: a temp data directory, or a new database in the server lane. Empty, or
 * with `migrated` a copy of the run's migrated template (test/helpers/templates.ts): what `migrate()`
 * builds on an empty store, in a fraction of the time.
 */
export async function createTestStore(engine: EngineKind, dataDir = tempDir(), opts: { migrated?: boolean } = {}): Promise<TestStore> {
  const server: ServerDatabase | null = engine === 'server' ? await createServerDatabase(opts.migrated ? SERVER_TEMPLATE : undefined) : null
  if (engine === 'embedded' && opts.migrated) copyEmbeddedTemplate(EMBEDDED_TEMPLATE, dataDir)
  return {
    kind: engine,
    dataDir,
    env: server ? { DATABASE_URL: server.url } : { DATA_DIR: dataDir },
    async remove(o = {}) {
      await server?.drop()
      if (!o.keep) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export interface TestDatabase extends Database {
  kind: EngineKind
  /** Where another process connects: the engine's socket path, or the server database's URL. */
  connectTo: string
  store: TestStore
  dataDir: string
  config: Config
  /** The environment a child process needs to open this same database. */
  env: Record<string, string>
  /** Closes the connection (and engine); drops the database / removes the data directory unless `keep`. */
  destroy(opts?: { keep?: boolean }): Promise<void>
}

/**
 * A fresh TimescaleDB on `engine`, migrated unless `migrate: false`; `store` reopens an existing one.
 * As on the embedded engine (whose jobs run only when pingscope calls them), the policy jobs of a server
 * database are held (next_start = infinity, TimescaleDB's documented pause) unless `timescaleJobs`:
 * otherwise its scheduler would refresh, compress and drop the fixed-date history a test has just
 * written, at a moment of its own. Tests run them with runJob/runAllJobs, which works on both engines.
 * A migrated database starts as a copy of the run's template (then `migrate()` finds nothing to do);
 * `timescaleJobs` on the server migrates a fresh one, whose jobs TimescaleDB's scheduler then runs.
 */
export async function openTestDatabase(opts: {
  engine: EngineKind
  migrate?: boolean
  store?: TestStore
  env?: Record<string, string>
  timescaleJobs?: boolean
}): Promise<TestDatabase> {
  const fromTemplate = opts.migrate !== false && !(opts.timescaleJobs && opts.engine === 'server')
  const store = opts.store ?? (await createTestStore(opts.engine, tempDir(), { migrated: fromTemplate }))
  // A new embedded store nobody has opened yet is as empty as a new one: copy the template into it too.
  if (opts.store && fromTemplate && store.kind === 'embedded' && isUnopened(store.dataDir)) copyEmbeddedTemplate(EMBEDDED_TEMPLATE, store.dataDir)
  const config = testConfig({ ...store.env, ...opts.env })
  const db = await openDatabase(config, { log: testLog, supervise: true })
  if (opts.migrate !== false) await migrate(db.sql)
  if (db.mode === 'server' && !opts.timescaleJobs) await holdPolicyJobs(db.sql)
  return {
    ...db,
    kind: store.kind,
    connectTo: db.engine?.socket ?? store.env.DATABASE_URL!,
    store,
    dataDir: store.dataDir,
    config,
    env: store.env,
    async destroy(o = {}) {
      await db.close()
      if (!o.keep) await store.remove()
    },
  }
}

/** No database in the directory yet, and no engine serving it. */
function isUnopened(dataDir: string): boolean {
  return !existsSync(path.join(dataDir, 'pgdata')) && !existsSync(path.join(dataDir, 'engine.lock'))
}
