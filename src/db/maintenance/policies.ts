import type { Sql, Tx } from '../open.js'

// Makes the TimescaleDB policies of the sample tiers match the configured retention. The migration
// (sql/migrations/00002_rollups.sql) creates them with the defaults; this runs at every start-up, so
// changing RETENTION_*_DAYS needs no new migration. Idempotent: a second run changes nothing.
//
// The rules (reasons in the migration's comments):
//   retention      samples rawDays, samples_1m minuteDays, samples_1h hourDays (the per-site tiers
//                  samples_site_1m / samples_site_1h exactly as the combined ones, always)
//   refresh        1m start_offset = rawDays − 1 hour, 1h start_offset = minuteDays − 1 day, so a
//                  refresh window never reaches into chunks its source tier has dropped
//   compression    each tier's compress_after = its refresh start_offset + 1 day
//   batches        refresh 1440 one-minute / 720 one-hour buckets per batch where the engine has
//                  the setting (TimescaleDB 2.19+; its default of one bucket per batch is ~20× slower)

export interface RetentionDays {
  rawDays: number
  minuteDays: number
  hourDays: number
}

type PolicyKind = 'retention' | 'refresh' | 'compression'

export interface PolicyChange {
  relation: string
  policy: PolicyKind
  /** The previous setting, or null when the policy was missing and has been added. */
  from: string | null
  to: string
}

export interface PolicyReport {
  changed: PolicyChange[]
  /** Policies checked, changed or not. */
  checked: number
}

/** The rollup tiers: all sites combined (00002_rollups.sql) and per site (00011_sites.sql). */
export type TierRelation = 'samples_1m' | 'samples_1h' | 'samples_site_1m' | 'samples_site_1h'
const TIER_PAIRS = [
  { minute: 'samples_1m', hour: 'samples_1h' },
  { minute: 'samples_site_1m', hour: 'samples_site_1h' },
] as const
export const POLICY_RELATIONS = ['samples', ...TIER_PAIRS.flatMap((p) => [p.minute, p.hour])] as const

interface DesiredPolicy {
  relation: 'samples' | TierRelation
  policy: PolicyKind
  interval: string
  seconds: number
  /** Refresh policies: buckets_per_batch, applied only where the engine supports it. */
  batch?: number
}

const HOUR_S = 3600
const DAY_S = 86_400

// Buckets per refresh batch of each tier (a day of 1m buckets, 30 days of 1h buckets): the policies'
// buckets_per_batch, and the batch size of refreshTier.
const REFRESH_BATCH: Record<TierRelation, number> = { samples_1m: 1440, samples_1h: 720, samples_site_1m: 1440, samples_site_1h: 720 }

// Set only when a refresh policy has to be re-created; they match the migration.
const MINUTE_REFRESH = { endOffset: '1 minute', schedule: '1 minute' }
const HOUR_REFRESH = { endOffset: '1 hour', schedule: '30 minutes' }
const REFRESH_DEFAULTS: Record<TierRelation, { endOffset: string; schedule: string }> = {
  samples_1m: MINUTE_REFRESH,
  samples_1h: HOUR_REFRESH,
  samples_site_1m: MINUTE_REFRESH,
  samples_site_1h: HOUR_REFRESH,
}

const PROC: Record<PolicyKind, string> = {
  retention: 'policy_retention',
  refresh: 'policy_refresh_continuous_aggregate',
  compression: 'policy_compression',
}

const CONFIG_KEY: Record<PolicyKind, string> = {
  retention: 'drop_after',
  refresh: 'start_offset',
  compression: 'compress_after',
}

function hours(h: number): Pick<DesiredPolicy, 'interval' | 'seconds'> {
  return { interval: `${h} hours`, seconds: h * HOUR_S }
}

function days(d: number): Pick<DesiredPolicy, 'interval' | 'seconds'> {
  return { interval: `${d} days`, seconds: d * DAY_S }
}

/** Throws a clear Error unless each tier is kept for a whole number of days, longer than the one below. */
export function validateRetention(r: RetentionDays): void {
  for (const [key, value] of Object.entries(r)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`retention ${key} must be a whole number of days ≥ 1, got ${value}`)
    }
  }
  if (!(r.rawDays < r.minuteDays && r.minuteDays < r.hourDays)) {
    throw new Error(
      `retention must grow with each tier (raw < 1-minute < 1-hour days), got raw ${r.rawDays}, ` +
        `1-minute ${r.minuteDays}, 1-hour ${r.hourDays}: a tier cannot be rolled up from data already dropped`,
    )
  }
}

/** The policy settings for a retention configuration (pure: the rules above). */
export function desiredPolicies(r: RetentionDays): DesiredPolicy[] {
  validateRetention(r)
  const minuteWindowH = r.rawDays * 24 - 1
  const hourWindowD = r.minuteDays - 1
  const tiers = TIER_PAIRS.flatMap(({ minute, hour }): DesiredPolicy[] => [
    { relation: minute, policy: 'retention', ...days(r.minuteDays) },
    { relation: hour, policy: 'retention', ...days(r.hourDays) },
    { relation: minute, policy: 'refresh', ...hours(minuteWindowH), batch: REFRESH_BATCH[minute] },
    { relation: hour, policy: 'refresh', ...days(hourWindowD), batch: REFRESH_BATCH[hour] },
    { relation: minute, policy: 'compression', ...hours(minuteWindowH + 24) },
    { relation: hour, policy: 'compression', ...days(hourWindowD + 1) },
  ])
  return [{ relation: 'samples', policy: 'retention', ...days(r.rawDays) }, ...tiers]
}

interface CurrentPolicy {
  id: number
  relation: string
  proc: string
  setting: string | null
  seconds: number | null
  batch: number | null
}

/**
 * Makes the retention, refresh and cagg compression policies match `retention`, adding any that is
 * missing. Runs in one transaction, so a crash leaves the old policies or the new ones.
 */
export async function reconcilePolicies(sql: Sql, retention: RetentionDays): Promise<PolicyReport> {
  const desired = desiredPolicies(retention)
  const changed: PolicyChange[] = []

  await sql.begin(async (tx) => {
    // Single-word aliases: the rows read the same with or without a camelCase transform.
    const current = await tx<CurrentPolicy[]>`
      select j.job_id as id, j.hypertable_name as relation, j.proc_name as proc, s.setting,
             extract(epoch from s.setting::interval)::float8 as seconds,
             (j.config ->> 'buckets_per_batch')::int as batch
      from timescaledb_information.jobs j,
           lateral (select j.config ->> (case j.proc_name when 'policy_retention' then 'drop_after'
                                                          when 'policy_compression' then 'compress_after'
                                                          else 'start_offset' end) as setting) s
      where j.hypertable_name in ${tx(POLICY_RELATIONS)}
        and j.proc_name in ('policy_retention', 'policy_refresh_continuous_aggregate', 'policy_compression')
      order by j.job_id`

    const [engine] = await tx<{ batches: boolean }[]>`
      select exists (select 1 from pg_proc where proname = 'add_continuous_aggregate_policy'
                     and 'buckets_per_batch' = any (proargnames)) as batches`
    const pending = desired
      .map((want) => (engine?.batches ? want : { ...want, batch: undefined }))
      .map((want) => ({ want, have: current.find((c) => c.relation === want.relation && c.proc === PROC[want.policy]) }))
      .filter(
        ({ want, have }) =>
          !have || have.seconds !== want.seconds || (want.batch !== undefined && have.batch !== want.batch),
      )

    // Keep compress_after beyond the refresh window at every step (TimescaleDB's documented rule):
    // compression policies that grow go first, those that shrink go last.
    const rank = ({ want, have }: (typeof pending)[number]) =>
      want.policy !== 'compression' ? 1 : have?.seconds != null && want.seconds < have.seconds ? 2 : 0
    pending.sort((a, b) => rank(a) - rank(b))

    for (const { want, have } of pending) {
      await applyPolicy(tx, want, have?.id ?? null)
      changed.push({
        relation: want.relation,
        policy: want.policy,
        from: have ? describe(have.setting, have.batch) : null,
        to: describe(want.interval, want.batch ?? null),
      })
    }
  })

  return { changed, checked: desired.length }
}

async function applyPolicy(sql: Tx, want: DesiredPolicy, jobId: number | null): Promise<void> {
  const { relation, interval } = want
  switch (want.policy) {
    case 'retention':
      // Remove and add, as TimescaleDB's docs do it; atomic inside the caller's transaction.
      await sql`select remove_retention_policy(${relation}::regclass, if_exists => true)`
      await sql`select add_retention_policy(${relation}::regclass, drop_after => ${interval}::interval)`
      return
    case 'refresh': {
      let id = jobId
      if (id === null) {
        const d = REFRESH_DEFAULTS[relation as TierRelation]
        const [row] = await sql<{ id: number }[]>`
          select add_continuous_aggregate_policy(${relation}::regclass,
            start_offset => ${interval}::interval, end_offset => ${d.endOffset}::interval,
            schedule_interval => ${d.schedule}::interval) as id`
        id = row!.id
      }
      await setJobConfig(sql, id, { [CONFIG_KEY.refresh]: interval, ...(want.batch ? { buckets_per_batch: want.batch } : {}) })
      return
    }
    case 'compression':
      if (jobId !== null) await setJobConfig(sql, jobId, { [CONFIG_KEY.compression]: interval })
      else await sql`select add_compression_policy(${relation}::regclass, compress_after => ${interval}::interval)`
      return
  }
}

/**
 * `call refresh_continuous_aggregate(tier, from, to)` with the policy's batch size (REFRESH_BATCH).
 * Use it for every manual refresh of a tier. TimescaleDB 2.28 made a manual refresh batch like a policy,
 * 10 buckets per batch unless told otherwise, each batch in transactions of its own with a fresh plan
 * of the 56-aggregate query: a week of samples_1m is 1,008 batches. Measured on the 2.28.3 server, a
 * week of 3 targets × 3 echoes every 300 s (18k rows): 2.3–2.7 s by default, 0.14 s with 1440 buckets
 * per batch, the same rows; the seed of 40 days spent 18.8 s in samples_1m refreshes instead of 0.8 s,
 * and 58 s instead of 1.0 s once more after a reset. The `options` argument exists from 2.21 on (the
 * embedded 2.23 takes it, and refreshes in one pass anyway); older servers get the plain call.
 */
export async function refreshTier(sql: Sql, tier: TierRelation, from: Date, to: Date): Promise<void> {
  const [engine] = await sql<{ options: boolean }[]>`
    select exists (select 1 from pg_proc where proname = 'refresh_continuous_aggregate'
                   and 'options' = any (proargnames)) as options`
  if (engine?.options) {
    // Built in SQL: postgres.js would JSON-encode a string parameter typed jsonb a second time, and a
    // JSON string instead of an object leaves the default of 10 buckets in place without a word.
    await sql`
      call refresh_continuous_aggregate(${tier}::regclass, ${from}::timestamptz, ${to}::timestamptz,
        options => jsonb_build_object('buckets_per_batch', ${REFRESH_BATCH[tier]}::int))`
  } else {
    await sql`call refresh_continuous_aggregate(${tier}::regclass, ${from}::timestamptz, ${to}::timestamptz)`
  }
}

// alter_job keeps the job id and schedule; TimescaleDB validates the new config with the policy's check.
async function setJobConfig(sql: Tx, jobId: number, patch: Record<string, string | number>): Promise<void> {
  await sql`
    select alter_job(job_id, config => config || ${sql.json(patch)}::jsonb)
    from timescaledb_information.jobs
    where job_id = ${jobId}`
}

function describe(setting: string | null, batch: number | null): string {
  return batch ? `${setting}, ${batch} buckets per batch` : String(setting)
}
