import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './free-port.js'

// A throwaway TimescaleDB server cluster on a temp directory and a loopback port of its own, on Debian's
// PostgreSQL 15 with the TimescaleDB that scripts/test-setup.mjs installed (or built). Used by the test
// suite's server lane and by the benchmarks that compare the two engines. Durability is off (fsync,
// full-page writes): it holds nothing worth keeping. Telemetry is off: no traffic leaves this machine.

export const PG_BIN = '/usr/lib/postgresql/15/bin'

export interface Cluster {
  /** postgres:// URL of the maintenance database `postgres` (superuser, trust auth, loopback only). */
  adminUrl: string
  /** The TimescaleDB version installed in this cluster. */
  timescaleVersion: string
  dir: string
  stop(): void
}

/** True when PostgreSQL 15 and the TimescaleDB extension are installed. */
export function timescaleInstalled(): boolean {
  if (!existsSync(path.join(PG_BIN, 'postgres')) || !existsSync(path.join(PG_BIN, 'pg_config'))) return false
  const share = execFileSync(path.join(PG_BIN, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim()
  return existsSync(path.join(share, 'extension', 'timescaledb.control'))
}

/** Runs a PostgreSQL tool, as the postgres user when we are root (initdb and postgres refuse root). */
function pgTool(tool: string, args: string[]): string {
  const asRoot = process.getuid?.() === 0
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, tool), ...args]] : [path.join(PG_BIN, tool), args]
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: os.tmpdir() })
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`)
  return r.stdout
}

/** initdb + start; `settings` are extra postgresql.conf lines. */
export async function startCluster(opts: { settings?: string[] } = {}): Promise<Cluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pingscope-timescale-'))
  const pgdata = path.join(dir, 'pgdata')
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }))
    chownSync(dir, id('-u'), id('-g'))
  }
  const port = await freePort()
  try {
    pgTool('initdb', ['-D', pgdata, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'])
    const conf = [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      `shared_preload_libraries = 'timescaledb'`,
      `timescaledb.telemetry_level = off`,
      // each database with the extension runs a TimescaleDB scheduler worker
      `max_connections = 200`,
      `max_worker_processes = 64`,
      `timescaledb.max_background_workers = 48`,
      `fsync = off`,
      `full_page_writes = off`,
      `synchronous_commit = off`,
      `shared_buffers = 256MB`,
      `max_locks_per_transaction = 256`,
      ...(opts.settings ?? []),
    ]
    writeFileSync(path.join(pgdata, 'postgresql.auto.conf'), `${conf.join('\n')}\n`)
    pgTool('pg_ctl', ['-D', pgdata, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start'])
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`
  const timescaleVersion = execFileSync(
    path.join(PG_BIN, 'psql'),
    [adminUrl, '-Atc', `select default_version from pg_available_extensions where name = 'timescaledb'`],
    { encoding: 'utf8' },
  ).trim()
  return {
    adminUrl,
    timescaleVersion,
    dir,
    stop() {
      try {
        pgTool('pg_ctl', ['-D', pgdata, '-m', 'immediate', '-w', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
