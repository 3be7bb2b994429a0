import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { SITE_NAME_RE, SITE_NAME_RULE } from './lib/input.schema.js'

// Every setting pingscope reads, in one place. `.env.example` mirrors this schema line for line.
// Nothing else in the code base reads process.env.

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)

const WEAK_SECRETS = new Set(['secret', 'changeme', 'change-this-secret', 'super-secret-key', 'pingscope'])

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v)
      return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname.length > 0
    } catch {
      return false
    }
  }, 'must be a postgres://user:password@host:port/database URL')

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    HOST: z.string().trim().min(1).default('127.0.0.1'),
    PORT: int(0, 65535).default(6666),

    // Authentication.
    JWT_SECRET: z.string().optional(),
    JWT_EXPIRES_MIN: int(1, 43200).default(1440),
    ADMIN_USERNAME: z.string().trim().min(1).max(64).default('admin'),
    ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
    LOGIN_RATE_LIMIT_PER_MIN: int(1, 10000).default(10),
    LOGIN_RATE_LIMIT_GLOBAL_PER_MIN: int(1, 100000).default(100),
    CORS_ORIGINS: z.string().default(''),

    // Traceroute.
    TRACEROUTE_BIN: z.string().trim().min(1).default('traceroute'),
    TRACEROUTE_CONCURRENCY: int(1, 64).default(4),
    TRACEROUTE_SCHEDULE_ENABLED: bool.default(true),
    TRACEROUTE_SCHEDULE_POLL_S: int(1, 3600).default(5),

    // Database: server mode when DATABASE_URL is set, embedded TimescaleDB otherwise.
    DATABASE_MODE: z.enum(['auto', 'embedded', 'server']).default('auto'),
    DATABASE_URL: postgresUrl.optional(),
    DB_POOL_MAX: int(1, 100).default(4),
    DATA_DIR: z.string().trim().min(1).default('./data'),
    EMBEDDED_START_TIMEOUT_S: int(5, 600).default(120),
    EMBEDDED_HEALTH_TIMEOUT_S: int(5, 600).default(90),

    // Retention of each tier, in days. Each tier must outlive the one it is computed from.
    RETENTION_RAW_DAYS: int(1, 365).default(3),
    RETENTION_1M_DAYS: int(2, 3650).default(30),
    RETENTION_1H_DAYS: int(7, 36500).default(1825),

    // Policy job runner (embedded mode only; TimescaleDB's own scheduler runs them in server mode).
    JOBS_ENABLED: bool.default(true),
    JOBS_POLL_S: int(1, 3600).default(10),
    VACUUM_INTERVAL_H: int(1, 168).default(24),
    MAINTENANCE_STEP_MS: int(50, 10000).default(500),

    // Probe engine.
    PROBE_ENABLED: bool.default(true),
    PROBE_CONCURRENCY: int(1, 60000).default(5000),
    PROBE_RELOAD_MS: int(100, 60000).default(1000),
    PROBE_PACKET_SPACING_MS: int(0, 1000).default(100),
    PROBE_LATE_MS: int(1, 60000).default(50),
    OUTAGE_OPEN_ROUNDS: int(1, 1000).default(3),

    // Probe fleet: probe processes on one database share the targets of their site through leases.
    PROBE_NAME: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/, 'must be 1-100 letters, digits and . _ : @ - (starting with a letter or digit)')
      .optional(),
    PROBE_SITE: z
      .string()
      .trim()
      .regex(SITE_NAME_RE, `must be ${SITE_NAME_RULE}`)
      .default('default'),
    PROBE_HEARTBEAT_MS: int(100, 60000).default(2000),

    // Remote probe agent (`pingscope probe --server`): probes without database access, posts over HTTP.
    PROBE_SERVER: z
      .string()
      .trim()
      .refine((v) => {
        try {
          const u = new URL(v)
          return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0
        } catch {
          return false
        }
      }, 'must be the http:// or https:// URL of a pingscope server')
      .optional(),
    PROBE_TOKEN: z.string().trim().regex(/^pst_[A-Za-z0-9_-]{20,}$/, 'must be a probe token (pst_…; `pingscope tokens create <name> --probe --site <site>`)').optional(),
    AGENT_DATA_DIR: z.string().trim().min(1).default('./agent-data'),
    PROBE_BUFFER_MAX_MB: int(1, 1_000_000).default(512),
    WRITER_BATCH_ROWS: int(1, 50000).default(5000),
    WRITER_FLUSH_MS: int(50, 60000).default(1000),
    WRITER_MAX_BUFFER: int(1000, 50_000_000).default(2_000_000),

    // Alerts (issue 13): rule evaluation and notification delivery in `pingscope serve`.
    ALERTS_ENABLED: bool.default(true),
    ALERTS_EVAL_S: int(1, 3600).default(10),
    ALERTS_GROUP_WAIT_S: int(0, 300).default(20),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production') {
      // A guessable secret lets anyone mint tokens: production refuses to start without a real one.
      if (!c.JWT_SECRET || c.JWT_SECRET.length < 32 || WEAK_SECRETS.has(c.JWT_SECRET)) {
        ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be set to a random string of at least 32 characters in production (e.g. `openssl rand -base64 48`)' })
      }
    }
    if (c.DATABASE_MODE === 'server' && !c.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required when DATABASE_MODE=server' })
    }
    if (!(c.RETENTION_RAW_DAYS < c.RETENTION_1M_DAYS)) {
      ctx.addIssue({
        code: 'custom',
        path: ['RETENTION_1M_DAYS'],
        message: `must be greater than RETENTION_RAW_DAYS (${c.RETENTION_RAW_DAYS})`,
      })
    }
    if (!(c.RETENTION_1M_DAYS < c.RETENTION_1H_DAYS)) {
      ctx.addIssue({
        code: 'custom',
        path: ['RETENTION_1H_DAYS'],
        message: `must be greater than RETENTION_1M_DAYS (${c.RETENTION_1M_DAYS})`,
      })
    }
  })

type Raw = z.infer<typeof configSchema>

export interface Config {
  env: Raw['NODE_ENV']
  logLevel: Raw['LOG_LEVEL']
  host: string
  port: number
  database:
    | { mode: 'server'; url: string; poolMax: number }
    | {
        mode: 'embedded'
        dataDir: string
        poolMax: number
        startTimeoutMs: number
        healthTimeoutMs: number
      }
  retention: { rawDays: number; minuteDays: number; hourDays: number }
  jobs: { enabled: boolean; pollMs: number; vacuumIntervalMs: number; stepMs: number }
  probe: {
    enabled: boolean
    concurrency: number
    reloadMs: number
    packetSpacingMs: number
    lateMs: number
    outageOpenRounds: number
    /** This process in the probe fleet: unique name, site, heartbeat (leases last 3 heartbeats). */
    name: string
    site: string
    heartbeatMs: number
  }
  writer: { batchRows: number; flushMs: number; maxBuffer: number }
  /**
   * The remote probe agent: its server and probe token (null: not set), data directory (buffered
   * batches, last assignment), disk buffer bound, and PROBE_NAME as given (null: the kept or a new name).
   */
  agent: { server: string | null; token: string | null; dataDir: string; bufferMaxBytes: number; name: string | null }
  /** evalMs: between evaluation passes; groupWaitMs: a new notification's wait for others to join it. */
  alerts: { enabled: boolean; evalMs: number; groupWaitMs: number }
  auth: {
    /** Unset outside production: a random secret is generated once and kept in the database. */
    jwtSecret: string | null
    jwtExpiresMin: number
    adminUsername: string
    /** Unset: the first start creates the admin with a random password and logs it once. */
    adminPassword: string | null
    loginRateLimitPerMin: number
    /** Login attempts per minute across all addresses and usernames (bounds a password spray). */
    loginRateLimitGlobalPerMin: number
  }
  corsOrigins: string[]
  /** `searchPath`: the PATH the binary is looked up on (the process's own, not a setting). */
  traceroute: { bin: string; concurrency: number; searchPath: string; scheduleEnabled: boolean; schedulePollMs: number }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

const KNOWN_KEYS = new Set(Object.keys(configSchema.shape))

/** Parses an environment into a Config, throwing ConfigError listing every bad key. */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  // Empty strings count as unset, as in most dotenv tooling.
  const input: Record<string, string> = {}
  for (const key of KNOWN_KEYS) {
    const v = env[key]
    if (v !== undefined && v !== '') input[key] = v
  }
  const parsed = configSchema.safeParse(input)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = i.path.join('.') || '(config)'
      const got = typeof i.path[0] === 'string' ? input[i.path[0]] : undefined
      const secret = key.includes('URL') || key.includes('SECRET') || key.includes('PASSWORD')
      return `${key}: ${i.message}${got !== undefined && !secret ? ` (got "${got}")` : ''}`
    })
    throw new ConfigError(problems)
  }
  const c = parsed.data
  return {
    env: c.NODE_ENV,
    logLevel: c.LOG_LEVEL,
    host: c.HOST,
    port: c.PORT,
    database:
      c.DATABASE_URL && c.DATABASE_MODE !== 'embedded'
      ? { mode: 'server', url: c.DATABASE_URL, poolMax: c.DB_POOL_MAX }
      : {
          mode: 'embedded',
          dataDir: path.resolve(cwd, c.DATA_DIR),
          poolMax: c.DB_POOL_MAX,
          startTimeoutMs: c.EMBEDDED_START_TIMEOUT_S * 1000,
          healthTimeoutMs: c.EMBEDDED_HEALTH_TIMEOUT_S * 1000,
        },
    retention: {
      rawDays: c.RETENTION_RAW_DAYS,
      minuteDays: c.RETENTION_1M_DAYS,
      hourDays: c.RETENTION_1H_DAYS,
    },
    jobs: {
      enabled: c.JOBS_ENABLED,
      pollMs: c.JOBS_POLL_S * 1000,
      vacuumIntervalMs: c.VACUUM_INTERVAL_H * 3600_000,
      stepMs: c.MAINTENANCE_STEP_MS,
    },
    probe: {
      enabled: c.PROBE_ENABLED,
      concurrency: c.PROBE_CONCURRENCY,
      reloadMs: c.PROBE_RELOAD_MS,
      packetSpacingMs: c.PROBE_PACKET_SPACING_MS,
      lateMs: c.PROBE_LATE_MS,
      outageOpenRounds: c.OUTAGE_OPEN_ROUNDS,
      name: c.PROBE_NAME ?? `${os.hostname()}-${process.pid}`,
      site: c.PROBE_SITE,
      heartbeatMs: c.PROBE_HEARTBEAT_MS,
    },
    writer: { batchRows: c.WRITER_BATCH_ROWS, flushMs: c.WRITER_FLUSH_MS, maxBuffer: c.WRITER_MAX_BUFFER },
    agent: {
      server: c.PROBE_SERVER ?? null,
      token: c.PROBE_TOKEN ?? null,
      dataDir: path.resolve(cwd, c.AGENT_DATA_DIR),
      bufferMaxBytes: c.PROBE_BUFFER_MAX_MB * 1024 * 1024,
      name: c.PROBE_NAME ?? null,
    },
    alerts: { enabled: c.ALERTS_ENABLED, evalMs: c.ALERTS_EVAL_S * 1000, groupWaitMs: c.ALERTS_GROUP_WAIT_S * 1000 },
    auth: {
      jwtSecret: c.JWT_SECRET ?? null,
      jwtExpiresMin: c.JWT_EXPIRES_MIN,
      adminUsername: c.ADMIN_USERNAME,
      adminPassword: c.ADMIN_PASSWORD ?? null,
      loginRateLimitPerMin: c.LOGIN_RATE_LIMIT_PER_MIN,
      loginRateLimitGlobalPerMin: c.LOGIN_RATE_LIMIT_GLOBAL_PER_MIN,
    },
    corsOrigins: c.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
    traceroute: {
      bin: c.TRACEROUTE_BIN,
      concurrency: c.TRACEROUTE_CONCURRENCY,
      searchPath: env.PATH ?? '',
      scheduleEnabled: c.TRACEROUTE_SCHEDULE_ENABLED,
      schedulePollMs: c.TRACEROUTE_SCHEDULE_POLL_S * 1000,
    },
  }
}

/**
 * The process environment, with `.env` from the working directory loaded underneath it
 * (real environment variables win, as with dotenv).
 */
export function readEnv(cwd = process.cwd()): Record<string, string | undefined> {
  const file = path.join(cwd, '.env')
  if (existsSync(file)) process.loadEnvFile(file)
  return process.env
}
