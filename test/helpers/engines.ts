import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { inject } from 'vitest'

// The two database engines every integration test runs on, from one test body:
//   describe.each(ENGINES)('… (%s engine)', (engine) => { … openTestDatabase({ engine }) … })
// 'embedded' is the WebAssembly engine in a temp data directory; 'server' is a fresh database in the
// TimescaleDB server cluster that test/helpers/server-lane.ts started for this run.

export type EngineKind = 'embedded' | 'server'

const adminUrl = inject('serverAdminUrl')

/** Both engines when the server lane runs; the embedded one alone (said loudly at start) otherwise. */
export const ENGINES: EngineKind[] = adminUrl ? ['embedded', 'server'] : ['embedded']

/** The TimescaleDB version of the server lane ('' without one). */
export const SERVER_VERSION = inject('serverVersion')

export interface ServerDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

/** The migrated template database of the server lane ('' without the lane); see templates.ts. */
export const SERVER_TEMPLATE = inject('serverTemplate')

/** A migrated embedded data directory (`pgdata`) to copy; see templates.ts. */
export const EMBEDDED_TEMPLATE = inject('embeddedTemplate')

/**
 * A new database in the server lane's cluster: empty (the migrations create the extension), or a copy
 * of `template`. Copies run concurrently; one that finds the template busy (a moment after it was
 * made, TimescaleDB's scheduler may still be leaving it) waits and tries again.
 */
export async function createServerDatabase(template?: string): Promise<ServerDatabase> {
  if (!adminUrl) throw new Error('the server lane is not running')
  const name = `pingscope_test_${randomBytes(6).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await (template ? admin`create database ${admin(name)} template ${admin(template)}` : admin`create database ${admin(name)}`)
        break
      } catch (err) {
        // 55006: source database is being accessed by other users
        if ((err as { code?: string }).code !== '55006' || attempt >= 10) throw err
        await new Promise((r) => setTimeout(r, 200 * attempt))
      }
    }
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} })
      try {
        await a`drop database if exists ${a(name)} with (force)`
      } finally {
        await a.end()
      }
    },
  }
}

/** Runs SQL as the cluster's superuser in the maintenance database (to cut or block a test database). */
export async function withServerAdmin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  if (!adminUrl) throw new Error('the server lane is not running')
  const a = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    return await fn(a)
  } finally {
    await a.end()
  }
}

/** The database name in a postgres:// URL. */
function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1))
}

/**
 * A server-side crash of one database as its clients see it: every session of the database is terminated
 * and new connections are refused for `ms`, then allowed again.
 */
export async function cutServerDatabase(url: string, ms: number): Promise<void> {
  const name = databaseName(url)
  await withServerAdmin(async (a) => {
    await a`alter database ${a(name)} allow_connections false`
    await a`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`
  })
  await new Promise((r) => setTimeout(r, ms))
  await withServerAdmin((a) => a`alter database ${a(name)} allow_connections true`)
}

/** Freezes the whole server cluster (postmaster and every backend, SIGSTOP); returns the thaw. */
export async function freezeServer(): Promise<() => void> {
  const dataDir = await withServerAdmin(async (a) => (await a<{ dir: string }[]>`select current_setting('data_directory') as dir`)[0]!.dir)
  const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0])
  const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).trim().split('\n').map(Number)
  process.kill(postmaster, 'SIGSTOP')
  for (const c of children) process.kill(c, 'SIGSTOP')
  return () => {
    for (const c of children) process.kill(c, 'SIGCONT')
    process.kill(postmaster, 'SIGCONT')
  }
}
