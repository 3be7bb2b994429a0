// Pure planning for the embedded engine's maintenance in short steps (see ./embedded-maintenance.ts):
// which bucket ranges a refresh still has to do, how many buckets go into one step, and how long a chunk
// may span so that compressing it fits in one step. No database here; tests/db/maintenance-steps.test.ts.

export interface TimeRange {
  from: Date
  to: Date
}

/** Internal TimescaleDB time of a timestamptz: microseconds since the Unix epoch, ±2^63 as infinity. */
export function fromInternalTime(us: string): Date | null {
  const n = BigInt(us)
  if (n >= 9_000_000_000_000_000_000n || n <= -9_000_000_000_000_000_000n) return null
  return new Date(Number(n / 1000n))
}

function floorTo(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs
}

/**
 * The bucket-aligned parts of `window` that the invalidation `ranges` touch (closed ranges of internal
 * time, as the catalog stores them), merged. A range that starts or ends at infinity is cut at the window.
 */
export function pendingRanges(
  window: TimeRange,
  ranges: { lo: string; hi: string }[],
  bucketMs: number,
): TimeRange[] {
  const wFrom = floorTo(window.from.getTime(), bucketMs)
  const wTo = floorTo(window.to.getTime(), bucketMs)
  const parts: [number, number][] = []
  for (const r of ranges) {
    const lo = fromInternalTime(r.lo)?.getTime() ?? -Infinity
    const hi = fromInternalTime(r.hi)?.getTime() ?? Infinity
    // hi is inclusive: the bucket holding it is touched.
    const from = Math.max(wFrom, Number.isFinite(lo) ? floorTo(lo, bucketMs) : -Infinity)
    const to = Math.min(wTo, Number.isFinite(hi) ? floorTo(hi, bucketMs) + bucketMs : Infinity)
    if (from < to) parts.push([from, to])
  }
  parts.sort((a, b) => a[0] - b[0])
  const merged: [number, number][] = []
  for (const p of parts) {
    const last = merged.at(-1)
    if (last && p[0] <= last[1]) last[1] = Math.max(last[1], p[1])
    else merged.push([...p])
  }
  return merged.map(([from, to]) => ({ from: new Date(from), to: new Date(to) }))
}

/** Cuts ranges into steps of at most `buckets` buckets each, oldest first. */
export function splitIntoSteps(ranges: TimeRange[], bucketMs: number, buckets: number): TimeRange[] {
  const stepMs = Math.max(1, Math.floor(buckets)) * bucketMs
  const steps: TimeRange[] = []
  for (const r of ranges) {
    for (let t = r.from.getTime(); t < r.to.getTime(); t += stepMs) {
      steps.push({ from: new Date(t), to: new Date(Math.min(t + stepMs, r.to.getTime())) })
    }
  }
  return steps
}

/**
 * A running estimate of the cost of one unit of work (a bucket refreshed, a row compressed), in ms.
 * The first measurement replaces the prior; after that, slower measurements count fully (a step that ran
 * long must not be repeated at the same size) and faster ones half.
 */
export function createCostEstimate(priorMs: number) {
  let est = priorMs
  let measured = false
  return {
    get: () => est,
    record(ms: number, units: number) {
      if (units <= 0) return
      const x = ms / units
      est = !measured || x > est ? x : (est + x) / 2
      measured = true
    },
  }
}

/** How many units fit in one step of `stepMs`, at least 1 and at most `max`. */
export function unitsPerStep(stepMs: number, costMs: number, max: number): number {
  if (!(costMs > 0)) return max
  return Math.max(1, Math.min(max, Math.floor(stepMs / costMs)))
}

// Chunk intervals that line up with days (a day divides into them, or they are whole days), so that
// retention drops whole days.
const CHUNK_CHOICES_S = [864_000, 604_800, 432_000, 172_800, 86_400, 43_200, 21_600, 14_400, 10_800, 7_200, 3_600, 1_800, 1_200, 900, 600, 300]

/**
 * The longest chunk interval between `minSeconds` and `maxSeconds` whose chunk compresses within
 * `stepMs`, given the rows written per second to that hypertable and the measured cost of compressing
 * one row; `minSeconds` when none does.
 */
export function chunkIntervalFor(rowsPerS: number, costMsPerRow: number, stepMs: number, minSeconds: number, maxSeconds = 86_400): number {
  const choices = CHUNK_CHOICES_S.filter((s) => s >= minSeconds && s <= maxSeconds)
  const fits = choices.find((s) => rowsPerS * s * costMsPerRow <= stepMs)
  return fits ?? choices.at(-1)!
}
