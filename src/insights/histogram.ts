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

/** Where a percentile lies in a histogram: its bin, and how far into that bin's count (0–1]. */
export interface PercentilePosition {
  bin: number
  fraction: number
}

/**
 * The bin holding the p-quantile of `counts`, on percentile_cont's scale: the (n − 1)·p-th order
 * statistic counting from 0, i.e. the sample mass (n − 1)·p + ½ when each sample is spread over a unit
 * of mass. Null when there is no sample.
 */
export function locatePercentile(counts: readonly number[], p: number): PercentilePosition | null {
  const total = counts.reduce((a, c) => a + c, 0)
  if (total === 0) return null
  const mass = (total - 1) * p + 0.5
  let below = 0
  for (let bin = 0; bin < counts.length; bin++) {
    const c = counts[bin] as number
    if (c > 0 && below + c >= mass) return { bin, fraction: (mass - below) / c }
    below += c
  }
  return null // unreachable: mass < total
}

/** A 1-minute row as shapeBin sees it: its counts in the bins asked for and what it knows exactly. */
export interface BinShapeRow {
  received: number
  rttMin: number
  rttMax: number
  rttSum: number
  /** Counts in the bins asked for, in their order. */
  counts: number[]
}

/**
 * The distribution of the RTTs a set of rollup rows counted in one bin (counts[index] of each row),
 * from what each row knows beyond its histogram: its minimum and maximum are two of its RTTs exactly,
 * its other RTTs lie between them (so within the bin's part of [min, max], often much narrower than the
 * bin), and when all of those fall in this bin their mean is (sum − min − max)/(n − 2). Min and max are
 * point masses; the other RTTs of a row are spread over its interval with a linear density of that mean
 * (uniform in log when the mean is unknown). quantile(f) is where the mixture reaches the share f of the
 * bin's RTTs. It stays inside the bin, so the worst case is unchanged (HISTOGRAM_MAX_RELATIVE_ERROR), but
 * where a bin is wider than the spread of a minute it is far closer than interpolating over the bin
 * (seeded history: at most 1.4 % off instead of up to 17 %, README, Data model). Built once per bin,
 * solved per percentile.
 */
export function shapeBin(bin: number, rows: readonly BinShapeRow[], index: number): { quantile(fraction: number): number } | null {
  const lo = HISTOGRAM_EDGES_US[bin] as number
  const hi = upperEdge(bin)
  // Struct of arrays, filled directly: 30 days of minutes are 40k rows, and the bisection passes below
  // touch every straddling piece 24 times per percentile.
  let capacity = 0
  for (const r of rows) capacity += Math.max(0, r.counts[index] ?? 0)
  const points = new Float64Array(capacity)
  let npoints = 0
  // Piece i spans [pa, pb] with pn RTTs; plog: u is measured in log space from pla = ln a over plw = ln(b/a).
  const [pa, pb, pn, ps, pla, plw] = [0, 0, 0, 0, 0, 0].map(() => new Float64Array(rows.length)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array]
  const plog = new Uint8Array(rows.length)
  let count = 0
  let total = 0
  for (const r of rows) {
    const c = r.counts[index] ?? 0
    if (c <= 0) continue
    total += c
    const minHere = binIndex(r.rttMin) === bin
    const maxHere = r.received >= 2 && binIndex(r.rttMax) === bin
    if (minHere) points[npoints++] = r.rttMin
    if (maxHere) points[npoints++] = r.rttMax
    const inner = c - (minHere ? 1 : 0) - (maxHere ? 1 : 0)
    if (inner <= 0) continue
    const a = Math.max(lo, r.rttMin)
    const b = Math.min(hi, r.rttMax)
    if (!(b > a)) {
      for (let i = 0; i < inner; i++) points[npoints++] = a
      continue
    }
    // With the mean known: density 1 + s·(2u − 1) on u ∈ [0, 1], whose mean is ½ + s/6 (|s| ≤ 1 keeps
    // it non-negative). Without: uniform in log, as the bins themselves are (linear in bin 0).
    const mean = inner === r.received - 2 ? (r.rttSum - r.rttMin - r.rttMax) / inner : null
    const log = mean === null && a > 0
    pa[count] = a
    pb[count] = b
    pn[count] = inner
    ps[count] = mean === null ? 0 : Math.max(-1, Math.min(1, 6 * ((mean - a) / (b - a) - 0.5)))
    plog[count] = log ? 1 : 0
    pla[count] = log ? Math.log(a) : 0
    plw[count] = log ? Math.log(b / a) : 0
    count++
  }
  if (total === 0) return null
  const sorted = points.subarray(0, npoints).sort() // typed: numeric, and much faster than a comparator
  const pointsAtOrBelow = (x: number) => {
    let l = 0
    let h = sorted.length
    while (l < h) {
      const mid = (l + h) >> 1
      if ((sorted[mid] as number) <= x) l = mid + 1
      else h = mid
    }
    return l
  }
  const active = new Int32Array(count)
  return {
    quantile(fraction: number): number {
      const target = Math.min(1, Math.max(0, fraction)) * total
      // Bisection on [x0, x1] = the bin: 24 halvings narrow any bin (1.6 s wide at most) to 0.1 µs.
      // Pieces wholly below x0 (counted in full from then on) or above x1 (never counted) leave the
      // active set, so the passes after the first cost only the pieces straddling the interval.
      let x0 = lo
      let x1 = hi
      let below = 0
      let live = count
      for (let i = 0; i < count; i++) active[i] = i
      for (let it = 0; it < 24; it++) {
        const x = (x0 + x1) / 2
        const lx = Math.log(x)
        let kept = 0
        let m = 0
        for (let k = 0; k < live; k++) {
          const i = active[k] as number
          const qa = pa[i] as number
          const qb = pb[i] as number
          if (qb <= x0) {
            below += pn[i] as number
            continue
          }
          if (qa >= x1) continue
          active[kept++] = i
          if (x >= qb) m += pn[i] as number
          else if (x > qa) {
            const u = plog[i] ? (lx - (pla[i] as number)) / (plw[i] as number) : (x - qa) / (qb - qa)
            m += (pn[i] as number) * (u + (ps[i] as number) * (u * u - u))
          }
        }
        live = kept
        if (below + m + pointsAtOrBelow(x) < target) x0 = x
        else x1 = x
      }
      return x1
    },
  }
}

/** shapeBin for one percentile: the RTT at `position`, refined with the rows that counted its bin. */
export function refinePercentile(position: PercentilePosition, rows: readonly BinShapeRow[], index: number): number | null {
  return shapeBin(position.bin, rows, index)?.quantile(position.fraction) ?? null
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
