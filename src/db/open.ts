import postgres from 'postgres'
import type { Config } from '../config.js'
import type { Logger } from '../log.js'
import { type EngineHandle, ensureEngine } from './engine/supervisor.js'

export type Sql = postgres.Sql
/** Anything that runs queries: the pool or a transaction (repositories take this, so they work in both). */
export type Queryable = postgres.Sql | postgres.TransactionSql
/** Inside `sql.begin(async (tx) => …)`. */
export type Tx = postgres.TransactionSql

/** Runs `work` in a transaction of its own, or as part of the caller's when `sql` is one already. */
export async function inTransaction<T>(sql: Queryable, work: (tx: Tx) => Promise<T>): Promise<T> {
  return 'begin' in sql ? (sql.begin(work) as Promise<T>) : work(sql)
}

export interface Database {
  sql: Sql
  mode: 'server' | 'embedded'
  /** Embedded mode only: the engine process this database talks to. */
  engine: EngineHandle | null
  close(): Promise<void>
}

export interface OpenOptions {
  log: Logger
  /** Keep the embedded engine alive for this process's lifetime (the server); CLI commands do not. */
  supervise?: boolean
  /** Override the pool size (e.g. 1 for a short CLI command). */
  max?: number
}

function clientOptions(log: Logger): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    transform: postgres.camel,
    onnotice: (n) => log.debug({ notice: n.message }, 'database notice'),
    connection: { application_name: 'pingscope' },
  }
}

/** Opens the configured database: a TimescaleDB server, or the embedded engine (started if needed). */
export async function openDatabase(config: Config, opts: OpenOptions): Promise<Database> {
  const db = config.database
  if (db.mode === 'server') {
    const sql = postgres(db.url, { ...clientOptions(opts.log), max: opts.max ?? db.poolMax })
    return { sql, mode: 'server', engine: null, close: () => sql.end({ timeout: 5 }) }
  }
  const engine = await ensureEngine({
    dataDir: db.dataDir,
    log: opts.log,
    startTimeoutMs: db.startTimeoutMs,
    supervise: opts.supervise ?? false,
  })
  const sql = postgres({
    ...clientOptions(opts.log),
    path: engine.socket,
    user: 'postgres',
    database: 'postgres',
    // One backend session is shared by every client: no named statements, no session state.
    prepare: false,
    max: opts.max ?? db.poolMax,
    // Queries queue behind a long refresh in the single backend; do not give up on them quickly.
    connect_timeout: Math.ceil(db.healthTimeoutMs / 1000),
  })
  return {
    sql,
    mode: 'embedded',
    engine,
    close: async () => {
      await sql.end({ timeout: 5 })
      await engine.stop()
    },
  }
}
