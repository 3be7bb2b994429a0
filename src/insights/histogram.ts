// The fixed log-scale latency histogram shared by the rollup tiers (samples_1m / samples_1h count
// columns h00…h55, see sql/migrations/00002_rollups.sql) and the percentile estimator.
//
// Bins (RTT in microseconds): bin 0 = [0, 32), bin k = [round(32·2^((k-1)/3)), round(32·2^(k/3)))
// for k = 1…54, bin 55 = [8,388,608, ∞): three bins per octave, 56 columns. Integer edges so the SQL
// compares plain ints. RTTs above 10 s cannot be stored (a reply after the 10 s maximum timeout is a
// loss), so the open last bin is treated as [8,388,608, 10,000,000) by the estimator.
//
// Why 2^(1/3) and not 2^(1/2): refresh cost of the 1-minute cagg on 250,000 raw rows, embedded engine
// (PGlite 0.3.14 + TimescaleDB 2.23-dev, in-memory, 2-core VM, 3 runs each, ms):
//   shape                                   no histogram   2^(1/2), 38 cols   2^(1/3), 56 cols
//   dense: 10 targets × 1 Hz (60 rows/bucket)  240 251 224      483 441 375       467 542 471
//                                                               380 359 410       517 694 436
//   sparse: 1 row per bucket (worst case)   1789 1635 1697   2657 2648 2580    3410 2925 3346
// The finer histogram costs about 25% more refresh time than the coarser one (about +100 ms per
// 250k rows in the normal dense shape) and cuts the worst-case percentile error from 42% to 27.5%.
// A per-minute policy run over 100 targets at 1 Hz refreshes ~6,000 rows: tens of milliseconds
// either way, so precision wins.

const RATIO_STEPS_PER_OCTAVE = 3
const FIRST_EDGE_US = 32
const OCTAVES = 18 // 32 µs · 2^18 = 8,388,608 µs ≈ 8.4 s

/** RTT ceiling used to close the last bin: the maximum probe timeout (targets.timeout_ms ≤ 10000). */
export const HISTOGRAM_MAX_RTT_US = 10_000_000

/** Lower edge (inclusive) of each bin, in µs; bin i is [EDGES[i], EDGES[i+1]), the last one open. */
export const HISTOGRAM_EDGES_US: readonly number[] = Object.freeze([
  0,
  ...Array.from({ length: OCTAVES * RATIO_STEPS_PER_OCTAVE + 1 }, (_, k) =>
    Math.round(FIRST_EDGE_US * 2 ** (k / RATIO_STEPS_PER_OCTAVE)),
  ),
])

export const HISTOGRAM_BINS = HISTOGRAM_EDGES_US.length

/** Column names of the histogram in the rollup tiers: h00 … h55. */
export const HISTOGRAM_COLUMNS: readonly string[] = Object.freeze(
  HISTOGRAM_EDGES_US.map((_, i) => `h${String(i).padStart(2, '0')}`),
)

function upperEdge(bin: number): number {
  return HISTOGRAM_EDGES_US[bin + 1] ?? HISTOGRAM_MAX_RTT_US
}

/**
 * Worst-case relative error of estimatePercentile against the exact nearest-rank percentile
 * (PostgreSQL's percentile_disc), for every percentile whose exact value is ≥ 32 µs.
 *
 * Proof. Let n be the sample count and r = max(1, ceil(p·n)) the rank; the exact percentile x is the
 * r-th smallest RTT. Bins are contiguous, disjoint and ordered, so the sorted RTTs fill them in order
 * and the r-th smallest lies in the bin k where the running count first reaches r: the estimator
 * picks exactly that bin, so x ∈ [lo_k, hi_k). The estimate is lo_k·(hi_k/lo_k)^f with f ∈ (0, 1),
 * so e ∈ (lo_k, hi_k) too. Two points of [lo, hi) are at most hi − lo apart, and x ≥ lo, hence
 * |e − x| / x < (hi_k − lo_k) / lo_k = hi_k/lo_k − 1. The largest ratio of consecutive edges is
 * 51/40 = 1.275 (integer rounding of 32·2^(1/3) and 32·2^(2/3)); higher up it tends to
 * 2^(1/3) ≈ 1.26, and the last bin, closed at 10 s, has 10,000,000/8,388,608 ≈ 1.19. So the error is
 * below 27.5%. Bin 0 ([0, 32 µs), interpolated linearly) has no relative bound, only an absolute
 * one: |e − x| < 32 µs (HISTOGRAM_BIN0_MAX_ABSOLUTE_ERROR_US); loopback RTTs land there.
 * The bound is for nearest-rank percentiles: compare with percentile_disc, not percentile_cont,
 * whose interpolation between two order statistics can straddle a bin edge.
 */
export const HISTOGRAM_MAX_RELATIVE_ERROR: number = Math.max(
  ...HISTOGRAM_EDGES_US.slice(1).map((lo, i) => upperEdge(i + 1) / lo - 1),
)

/** Absolute error bound of estimatePercentile when the exact percentile is below 32 µs (bin 0). */
export const HISTOGRAM_BIN0_MAX_ABSOLUTE_ERROR_US = FIRST_EDGE_US

/** Index of the bin holding rttUs (µs, ≥ 0): the same bin the SQL count filters put it in. */
export function binIndex(rttUs: number): number {
  if (!(rttUs >= 0)) throw new RangeError(`rtt must be a non-negative number of µs, got ${rttUs}`)
  // Binary search for the last lower edge ≤ rttUs.
  let lo = 0
  let hi = HISTOGRAM_BINS - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((HISTOGRAM_EDGES_US[mid] as number) <= rttUs) lo = mid
    else hi = mid - 1
  }
  return lo
}

/**
 * Estimates the p-quantile (p in [0, 1]) of the RTTs counted in `counts` (one count per bin, as read
 * from h00…h55, already summed over the window), in µs. Null when there is no sample.
 * The rank follows percentile_disc (max(1, ceil(p·n))); inside the chosen bin the estimate is
 * interpolated in log space (linearly in bin 0), with a lone sample placed at the bin's geometric
 * middle. Error bound: HISTOGRAM_MAX_RELATIVE_ERROR.
 */
export function estimatePercentile(counts: readonly number[], p: number): number | null {
  if (counts.length !== HISTOGRAM_BINS) {
    throw new RangeError(`expected ${HISTOGRAM_BINS} histogram counts, got ${counts.length}`)
  }
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile must be in [0, 1], got ${p}`)
  let total = 0
  for (const c of counts) {
    if (!(c >= 0)) throw new RangeError(`histogram counts must be non-negative, got ${c}`)
    total += c
  }
  if (total === 0) return null

  const rank = Math.max(1, Math.ceil(p * total))
  let below = 0
  for (let bin = 0; bin < HISTOGRAM_BINS; bin++) {
    const count = counts[bin] as number
    if (count > 0 && below + count >= rank) {
      const f = (rank - below - 0.5) / count
      const lo = HISTOGRAM_EDGES_US[bin] as number
      const hi = upperEdge(bin)
      return bin === 0 ? lo + f * (hi - lo) : lo * (hi / lo) ** f
    }
    below += count
  }
  return null // unreachable: rank ≤ total
}

/** Reads the h00…h55 columns of a rollup row (numbers, or strings for bigint sums) into counts. */
export function histogramFromRow(row: Readonly<Record<string, unknown>>): number[] {
  return HISTOGRAM_COLUMNS.map((col) => Number(row[col] ?? 0))
}

/**
 * The histogram column expressions of the rollup views, used by scripts/gen-histogram-sql.ts to write
 * the static migration: `raw` counts samples.rtt_us per bin, `rollup` sums a finer tier's columns.
 * Build-time code generation only: never feed this into a query at run time.
 */
export function sqlHistogramColumns(source: 'raw' | 'rollup'): string[] {
  return HISTOGRAM_COLUMNS.map((col, bin) => {
    if (source === 'rollup') return `sum(${col})::int as ${col}`
    const lo = HISTOGRAM_EDGES_US[bin] as number
    const hi = HISTOGRAM_EDGES_US[bin + 1]
    const cond =
      bin === 0 ? `rtt_us < ${hi}` : hi === undefined ? `rtt_us >= ${lo}` : `rtt_us >= ${lo} and rtt_us < ${hi}`
    return `count(*) filter (where ${cond})::int as ${col}`
  })
}
