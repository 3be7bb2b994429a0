import type { RetentionDays } from '../db/maintenance/policies.js'

// Which tier answers a window, and with which bucket size. Pure functions: the API, the CLI and the
// benchmark make the same choice.
//
// Tiers, finest first; a window goes to the first whose maximum window it fits AND whose retention
// still covers its start (a 2-hour window four days ago cannot come from raw samples kept 3 days):
//   raw  windows ≤ 6 h   exact percentiles (percentile_cont); ≤ 21,600 rows per target at 1 Hz
//   1m   windows ≤ 7 d   histogram percentiles; ≤ 10,080 rows per target
//   1h   anything longer (up to 5 years = 43,800 rows per target)
// So a query reads at most ~22k rows per target at 1 Hz, whatever the window.

export type TierName = 'raw' | '1m' | '1h'

export interface Tier {
  name: TierName
  /** The relation read: samples, samples_1m or samples_1h. */
  table: 'samples' | 'samples_1m' | 'samples_1h'
  /** Bucket width of the stored rows, in seconds (0 for raw: any bucket works). */
  resolutionS: number
  maxWindowS: number
  retentionDays: (r: RetentionDays) => number
}

const HOUR_S = 3600
const DAY_S = 86_400
const DAY_MS = DAY_S * 1000

export const TIERS: readonly Tier[] = [
  { name: 'raw', table: 'samples', resolutionS: 0, maxWindowS: 6 * HOUR_S, retentionDays: (r) => r.rawDays },
  { name: '1m', table: 'samples_1m', resolutionS: 60, maxWindowS: 7 * DAY_S, retentionDays: (r) => r.minuteDays },
  { name: '1h', table: 'samples_1h', resolutionS: 3600, maxWindowS: Infinity, retentionDays: (r) => r.hourDays },
]

/** 5 years (365 days each): the longest window, also the 1-hour tier's default retention. */
export const MAX_WINDOW_MINUTES = 2_628_000
export const MIN_BUCKET_S = 10
export const MAX_BUCKET_S = 30 * DAY_S
/** A timeline never has more buckets than this: a smaller requested bucket is enlarged. */
export const MAX_BUCKETS = 10_000
/** The default bucket gives at most this many buckets (and, from the nice sizes below, at least ~90). */
export const TARGET_BUCKETS = 300
const NICE_BUCKETS_S = [
  10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, DAY_S, 2 * DAY_S, 7 * DAY_S, 14 * DAY_S, 30 * DAY_S,
]

export const DEFAULT_RETENTION: RetentionDays = { rawDays: 3, minuteDays: 30, hourDays: 1825 }

export function chooseTier(from: Date, to: Date, now: Date, retention: RetentionDays): Tier {
  const windowS = (to.getTime() - from.getTime()) / 1000
  const fits = (t: Tier) => windowS <= t.maxWindowS && from.getTime() >= now.getTime() - t.retentionDays(retention) * DAY_MS
  return TIERS.find(fits) ?? TIERS[TIERS.length - 1]!
}

/**
 * The bucket size used: the request (or a default of about 100–300 buckets), enlarged to at least the
 * tier's resolution and to a multiple of it (a 90 s bucket on 1-minute rows would split them), to at
 * least the target's probe interval (`intervalS`: finer buckets are mostly empty, and a chart of them
 * is a row of isolated dots), and enlarged again if the window would need more than MAX_BUCKETS.
 * Clamped rather than refused, so a client need not know the tier thresholds; the response says which
 * size was used.
 */
export function chooseBucketSeconds(windowS: number, tier: Tier, requested?: number, intervalS = 0): number {
  const step = Math.max(1, tier.resolutionS)
  const floor = Math.max(tier.resolutionS, intervalS)
  if (requested === undefined) {
    const nice = NICE_BUCKETS_S.find((b) => b >= floor && windowS / b <= TARGET_BUCKETS)
    if (nice !== undefined) return nice
  }
  let b = Math.max(requested ?? MAX_BUCKET_S, floor)
  if (windowS / b > MAX_BUCKETS) b = windowS / MAX_BUCKETS
  return Math.ceil(b / step) * step
}

const floorTo = (ms: number, stepS: number) => (stepS > 0 ? Math.floor(ms / (stepS * 1000)) * stepS * 1000 : ms)
const ceilTo = (ms: number, stepS: number) => (stepS > 0 ? Math.ceil(ms / (stepS * 1000)) * stepS * 1000 : ms)

/** The earliest time whose raw samples are certainly still stored (retention drops whole older chunks). */
export function rawKeptFrom(now: Date, retention: RetentionDays): number {
  return now.getTime() - retention.rawDays * DAY_MS
}

/** What a window is answered from: whole tier buckets in tierRange, raw samples in `edges`. */
export interface WindowPlan {
  /** The range answered, within [from, to): exactly [from, to) unless an edge had to be dropped. */
  start: Date
  end: Date
  /** Whole buckets of the tier; null when there are none (raw tier, or a window inside one bucket). */
  tierRange: { start: Date; end: Date } | null
  /** The partial buckets at either end, read from raw samples (at most two ranges). */
  edges: { start: Date; end: Date }[]
}

/**
 * Splits [from, to) into the tier's whole buckets and the partial ones at either end. A stored bucket
 * of the 1m/1h tier counts everything in its minute or hour, so reading the bucket that holds `to`
 * counted samples after `to` (and the one holding `from` samples before it). The partial buckets are
 * read from raw samples while raw retention still covers them, so the answer is exactly [from, to);
 * older ones are left out and the range shrinks inward to the bucket boundaries (never past from or
 * to): the response's window_start / window_end say which range was counted. A window that holds no
 * whole bucket and whose raw samples are gone is empty.
 */
export function planWindow(from: Date, to: Date, now: Date, tier: Tier, retention: RetentionDays): WindowPlan {
  if (tier.resolutionS === 0) return { start: from, end: to, tierRange: null, edges: [] }
  const rawFrom = rawKeptFrom(now, retention)
  const [f, t] = [from.getTime(), to.getTime()]
  const first = ceilTo(f, tier.resolutionS)
  const last = floorTo(t, tier.resolutionS)
  if (first >= last) {
    // No whole bucket inside the window.
    return f >= rawFrom
      ? { start: from, end: to, tierRange: null, edges: [{ start: from, end: to }] }
      : { start: from, end: from, tierRange: null, edges: [] }
  }
  const edges: { start: Date; end: Date }[] = []
  let start = new Date(first)
  let end = new Date(last)
  if (f < first && f >= rawFrom) {
    edges.push({ start: from, end: start })
    start = from
  }
  if (t > last && last >= rawFrom) {
    edges.push({ start: end, end: to })
    end = to
  }
  return { start, end, tierRange: { start: new Date(first), end: new Date(last) }, edges }
}
