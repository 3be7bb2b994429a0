// The latency axis. A linear axis scaled to the maximum lets one 260 ms spike flatten a 36 µs median
// onto the zero line, so its top follows the window's p99 RTT (the API's, exact on raw samples) or the
// highest median if that is higher, with 20 % headroom; buckets whose maximum is above it are drawn
// clipped and marked. The log scale shows everything and needs no clipping.

const HEADROOM = 1.2

type Values = (number | null)[]

const maxOf = (xs: Values): number | null => xs.reduce<number | null>((m, v) => (v !== null && (m === null || v > m) ? v : m), null)

export interface LinearScale {
  /** The axis top in ms; null when the window has no RTT (uPlot's own range then). */
  top: number | null
  /** Indices of the buckets whose maximum is above the top. */
  clipped: number[]
  /** The highest value cut off (ms), when some are. */
  clippedMax: number | null
}

export function linearScale(p99: number | null, p50: Values, max: Values): LinearScale {
  const dataMax = maxOf(max) ?? maxOf(p50)
  if (dataMax === null || dataMax <= 0) return { top: null, clipped: [], clippedMax: null }
  const base = Math.max(p99 ?? 0, maxOf(p50) ?? 0)
  if (base <= 0 || dataMax <= base * HEADROOM) return { top: dataMax * 1.05, clipped: [], clippedMax: null }
  const top = base * HEADROOM
  const clipped = max.flatMap((v, i) => (v !== null && v > top ? [i] : []))
  return { top, clipped, clippedMax: dataMax }
}

/** Indices of values with no value either side: a line cannot show them, so they are drawn as points. */
export function isolated(xs: Values): number[] {
  return xs.flatMap((v, i) => (v !== null && (i === 0 || xs[i - 1] === null) && (i === xs.length - 1 || xs[i + 1] === null) ? [i] : []))
}

/** A log axis cannot show zero: such values (a rounded 0 ms) become gaps. */
export const positive = (xs: Values): Values => xs.map((v) => (v !== null && v > 0 ? v : null))
