import { describe, expect, it } from 'vitest'
import {
  HISTOGRAM_BIN0_MAX_ABSOLUTE_ERROR_US,
  HISTOGRAM_BINS,
  HISTOGRAM_COLUMNS,
  HISTOGRAM_EDGES_US,
  HISTOGRAM_MAX_RELATIVE_ERROR,
  HISTOGRAM_MAX_RTT_US,
  binIndex,
  type BinShapeRow,
  estimatePercentile,
  histogramFromRow,
  locatePercentile,
  refinePercentile,
  sqlHistogramColumns,
} from '../../src/insights/histogram.js'
import { createPrng } from '../../src/lib/prng.js'

function logNormalRtts(rand: () => number, n: number, medianUs: number, sigma: number): number[] {
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
    return Math.min(HISTOGRAM_MAX_RTT_US - 1, Math.round(medianUs * Math.exp(sigma * z)))
  })
}

function countsOf(rtts: number[]): number[] {
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0)
  for (const r of rtts) counts[binIndex(r)]! += 1
  return counts
}

/** Nearest-rank percentile, as PostgreSQL's percentile_disc. */
function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!
}

describe('histogram edges', () => {
  it('are 56 strictly increasing integer lower edges from 0, 32 µs to ~8.4 s', () => {
    expect(HISTOGRAM_BINS).toBe(56)
    expect(HISTOGRAM_EDGES_US[0]).toBe(0)
    expect(HISTOGRAM_EDGES_US[1]).toBe(32)
    expect(HISTOGRAM_EDGES_US.at(-1)).toBe(8_388_608)
    for (let i = 1; i < HISTOGRAM_BINS; i++) {
      expect(Number.isInteger(HISTOGRAM_EDGES_US[i])).toBe(true)
      expect(HISTOGRAM_EDGES_US[i]!).toBeGreaterThan(HISTOGRAM_EDGES_US[i - 1]!)
    }
    // Every octave is exact: 32, 64, 128 … µs.
    for (let k = 0; k <= 18; k++) expect(HISTOGRAM_EDGES_US[1 + 3 * k]).toBe(32 * 2 ** k)
  })

  it('name one column per bin, h00 … h55', () => {
    expect(HISTOGRAM_COLUMNS).toHaveLength(HISTOGRAM_BINS)
    expect(HISTOGRAM_COLUMNS[0]).toBe('h00')
    expect(HISTOGRAM_COLUMNS[55]).toBe('h55')
    expect(new Set(HISTOGRAM_COLUMNS).size).toBe(HISTOGRAM_BINS)
  })

  it('generate SQL filters with the same edges as binIndex', () => {
    const raw = sqlHistogramColumns('raw')
    expect(raw[0]).toBe('count(*) filter (where rtt_us < 32)::int as h00')
    expect(raw[2]).toBe('count(*) filter (where rtt_us >= 40 and rtt_us < 51)::int as h02')
    expect(raw[55]).toBe('count(*) filter (where rtt_us >= 8388608)::int as h55')
    expect(sqlHistogramColumns('rollup')[7]).toBe('sum(h07)::int as h07')
  })

  it('give a relative error bound of 27.5% (51/40, the widest bin)', () => {
    expect(HISTOGRAM_MAX_RELATIVE_ERROR).toBeCloseTo(0.275, 10)
    expect(HISTOGRAM_BIN0_MAX_ABSOLUTE_ERROR_US).toBe(32)
  })
})

describe('binIndex', () => {
  it('puts each lower edge in its own bin and the value below it in the previous one', () => {
    HISTOGRAM_EDGES_US.forEach((edge, i) => {
      expect(binIndex(edge)).toBe(i)
      if (i > 0) expect(binIndex(edge - 1)).toBe(i - 1)
      if (i > 0) expect(binIndex(edge - 0.5)).toBe(i - 1)
    })
  })

  it('covers 0 µs to beyond the last edge', () => {
    expect(binIndex(0)).toBe(0)
    expect(binIndex(31)).toBe(0)
    expect(binIndex(32)).toBe(1)
    expect(binIndex(HISTOGRAM_MAX_RTT_US)).toBe(55)
    expect(binIndex(1e12)).toBe(55)
  })

  it('rejects negative and non-numbers', () => {
    expect(() => binIndex(-1)).toThrow(RangeError)
    expect(() => binIndex(Number.NaN)).toThrow(RangeError)
  })
})

describe('estimatePercentile', () => {
  it('returns null without samples', () => {
    expect(estimatePercentile(new Array(HISTOGRAM_BINS).fill(0), 0.5)).toBeNull()
  })

  it('rejects a wrong number of bins, p outside [0, 1] and negative counts', () => {
    expect(() => estimatePercentile([1, 2, 3], 0.5)).toThrow(RangeError)
    const counts = countsOf([1000])
    expect(() => estimatePercentile(counts, 1.5)).toThrow(RangeError)
    expect(() => estimatePercentile(counts, -0.1)).toThrow(RangeError)
    counts[3] = -1
    expect(() => estimatePercentile(counts, 0.5)).toThrow(RangeError)
  })

  it('places a lone sample at the geometric middle of its bin (linear middle in bin 0)', () => {
    expect(estimatePercentile(countsOf([1000]), 0.5)).toBeCloseTo(Math.sqrt(813 * 1024), 6)
    expect(estimatePercentile(countsOf([12]), 0.99)).toBeCloseTo(16, 6)
  })

  it('closes the open last bin at the maximum RTT', () => {
    const est = estimatePercentile(countsOf([9_000_000]), 0.5)!
    expect(est).toBeGreaterThan(8_388_608)
    expect(est).toBeLessThan(HISTOGRAM_MAX_RTT_US)
  })

  it('stays within the bound in the worst case: every sample on a bin’s lower edge', () => {
    const rtts = new Array<number>(10_000).fill(40)
    const est = estimatePercentile(countsOf(rtts), 1)!
    const err = Math.abs(est - 40) / 40
    expect(err).toBeGreaterThan(0.27) // the bound is nearly reached …
    expect(err).toBeLessThan(HISTOGRAM_MAX_RELATIVE_ERROR) // … never passed
  })

  it('matches exact nearest-rank percentiles of log-normal RTTs within the documented bound', () => {
    const rand = createPrng(20_240_601)
    const ps = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]
    let checked = 0
    let worst = 0
    // Loopback (20 µs), LAN, WAN and satellite-like latencies, tight and wide spreads, tiny to large samples.
    for (const median of [20, 45, 300, 2_500, 30_000, 600_000, 3_000_000]) {
      for (const sigma of [0.05, 0.3, 1, 2]) {
        for (const n of [1, 2, 7, 100, 5_000]) {
          const rtts = logNormalRtts(rand, n, median, sigma)
          const sorted = [...rtts].sort((a, b) => a - b)
          const counts = countsOf(rtts)
          for (const p of ps) {
            const exact = exactPercentile(sorted, p)
            const est = estimatePercentile(counts, p)
            expect(est).not.toBeNull()
            expect(binIndex(est!)).toBe(binIndex(exact)) // same bin as the exact value
            if (exact >= 32) {
              const err = Math.abs(est! - exact) / exact
              worst = Math.max(worst, err)
              expect(err).toBeLessThan(HISTOGRAM_MAX_RELATIVE_ERROR)
            } else {
              expect(Math.abs(est! - exact)).toBeLessThan(HISTOGRAM_BIN0_MAX_ABSOLUTE_ERROR_US)
            }
            checked++
          }
        }
      }
    }
    expect(checked).toBe(7 * 4 * 5 * ps.length)
    expect(worst).toBeGreaterThan(0.1) // the test does exercise the bound
  })

  it('is monotonic in p', () => {
    const counts = countsOf(logNormalRtts(createPrng(7), 2_000, 5_000, 1))
    let prev = 0
    for (let p = 0; p <= 1; p += 0.005) {
      const est = estimatePercentile(counts, p)!
      expect(est).toBeGreaterThanOrEqual(prev)
      prev = est
    }
  })
})

/** Rollup rows of `perRow` consecutive RTTs each, as binShapeRows reads them for the bins of `bins`. */
function shapeRows(rtts: number[], perRow: number, bins: number[]): BinShapeRow[] {
  const rows: BinShapeRow[] = []
  for (let i = 0; i < rtts.length; i += perRow) {
    const xs = rtts.slice(i, i + perRow)
    const counts = countsOf(xs)
    rows.push({ received: xs.length, rttMin: Math.min(...xs), rttMax: Math.max(...xs), rttSum: xs.reduce((a, b) => a + b, 0), counts: bins.map((b) => counts[b]!) })
  }
  return rows
}

/** percentile_cont: linear interpolation between the order statistics around (n − 1)·p. */
function percentileCont(sorted: number[], p: number): number {
  const k = (sorted.length - 1) * p
  const f = Math.floor(k)
  return sorted[f]! + (sorted[Math.min(f + 1, sorted.length - 1)]! - sorted[f]!) * (k - f)
}

function refined(rtts: number[], perRow: number, p: number): number {
  const at = locatePercentile(countsOf(rtts), p)!
  return refinePercentile(at, shapeRows(rtts, perRow, [at.bin]), 0)!
}

describe('locatePercentile and refinePercentile', () => {
  it('locate the bin of percentile_cont’s rank, and nothing without samples', () => {
    expect(locatePercentile(new Array(HISTOGRAM_BINS).fill(0), 0.5)).toBeNull()
    expect(locatePercentile(countsOf([1000]), 0.99)).toEqual({ bin: binIndex(1000), fraction: 0.5 })
    // 10 samples in two bins: mass 9·0.5 + 0.5 = 5 of 10 is the last of the first bin's 5.
    expect(locatePercentile(countsOf([...new Array(5).fill(100), ...new Array(5).fill(1000)]), 0.5)).toEqual({ bin: binIndex(100), fraction: 1 })
  })

  it('return the exact RTT when each row holds one or two', () => {
    const rtts = [20_100, 20_400, 19_950, 20_700, 20_300, 20_250]
    const sorted = [...rtts].sort((a, b) => a - b)
    for (const perRow of [1, 2]) {
      // The k-th smallest exactly, at the middle of its unit of mass.
      for (let k = 0; k < rtts.length; k++) expect(refined(rtts, perRow, k / (rtts.length - 1))).toBeCloseTo(sorted[k]!, 3)
    }
  })

  it('stay in the located bin and rise with the position', () => {
    const rtts = logNormalRtts(createPrng(3), 3_000, 5_000, 0.8)
    const counts = countsOf(rtts)
    let prev = 0
    for (let p = 0; p <= 1; p += 0.01) {
      const at = locatePercentile(counts, p)!
      const e = refinePercentile(at, shapeRows(rtts, 5, [at.bin]), 0)!
      expect(binIndex(Math.min(e, HISTOGRAM_MAX_RTT_US - 1))).toBe(at.bin)
      expect(e).toBeGreaterThanOrEqual(prev)
      prev = e
    }
  })

  it('are within 2 % where interpolating over the bin is 8 % off: latency that moves a few percent over the day', () => {
    // 20 ms ± 5 % over a day plus queueing, one echo every 12 s in rows of 5 (a minute): the p50–p99
    // span is narrower than one bin, so the in-bin interpolation of estimatePercentile cannot place it.
    const rand = createPrng(11)
    const rtts = Array.from({ length: 7_200 }, (_, i) => {
      const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
      return Math.round(20_000 * (1 + 0.05 * Math.sin((2 * Math.PI * i) / 7_200)) + 300 * Math.exp(0.5 * z))
    })
    const sorted = [...rtts].sort((a, b) => a - b)
    let worstRefined = 0
    let worstPlain = 0
    for (const p of [0.5, 0.95, 0.99]) {
      const exact = percentileCont(sorted, p)
      worstRefined = Math.max(worstRefined, Math.abs(refined(rtts, 5, p) - exact) / exact)
      worstPlain = Math.max(worstPlain, Math.abs(estimatePercentile(countsOf(rtts), p)! - exact) / exact)
    }
    expect(worstPlain).toBeGreaterThan(0.08)
    expect(worstRefined).toBeLessThan(0.02)
  })
})

describe('histogramFromRow', () => {
  it('reads h00…h55, numbers or bigint strings, missing as 0', () => {
    const counts = histogramFromRow({ h00: 3, h01: '4', h55: 1, sent: 99 })
    expect(counts).toHaveLength(HISTOGRAM_BINS)
    expect(counts.slice(0, 3)).toEqual([3, 4, 0])
    expect(counts[55]).toBe(1)
  })
})
