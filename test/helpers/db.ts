import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Config, loadConfig } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'
import { type Database, openDatabase } from '../../src/db/open.js'
import { createLogger } from '../../src/log.js'

export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test')

export function tempDir(prefix = 'pingscope-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', ...env })
}

export interface TestDatabase extends Database {
  dataDir: string
  config: Config
  /** Closes the connection and engine, and removes the data directory unless `keep`. */
  destroy(opts?: { keep?: boolean }): Promise<void>
}

/** A fresh embedded TimescaleDB in its own data directory, migrated unless `migrate: false`. */
export async function openTestDatabase(opts: { migrate?: boolean; dataDir?: string; env?: Record<string, string> } = {}): Promise<TestDatabase> {
  const dataDir = opts.dataDir ?? tempDir()
  const config = testConfig({ DATA_DIR: dataDir, ...opts.env })
  const db = await openDatabase(config, { log: testLog, supervise: true })
  if (opts.migrate !== false) await migrate(db.sql)
  return {
    ...db,
    dataDir,
    config,
    async destroy(o = {}) {
      await db.close()
      if (!o.keep) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
