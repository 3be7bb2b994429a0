import type { InsightsOut } from '@server/insights/insights.schema.js'
import { type LinearScale, linearScale } from '../targets/chart/scale'

// The compare chart's data: each target's timeline (its own bucket width, which the API chooses from the
// window and the target's probe interval) on one shared time axis. Times a target has no bucket at are
// `undefined`, which uPlot draws across; its own empty buckets stay `null`, which uPlot draws as gaps.

type Value = number | null | undefined

export interface CompareData {
  /** Bucket centres, epoch seconds, ascending: the union of every target's. */
  x: number[]
  /** Per target: the median of each bucket. */
  p50: Value[][]
  /** Per target: the maximum of each bucket (for the clipped-axis marks). */
  max: Value[][]
  /** Per target: loss in percent. */
  loss: Value[][]
}

const sec = (iso: string) => new Date(iso).getTime() / 1000

export function joinTimelines(series: readonly InsightsOut[]): CompareData {
  const xs = new Set<number>()
  const own = series.map((s) => {
    const half = s.bucket_seconds / 2
    const at = new Map(s.timeline.map((b) => [sec(b.bucket) + half, b] as const))
    for (const t of at.keys()) xs.add(t)
    return at
  })
  const x = [...xs].sort((a, b) => a - b)
  const pick = (f: (b: InsightsOut['timeline'][number]) => number | null) => own.map((at) => x.map((t) => (at.has(t) ? f(at.get(t)!) : undefined)))
  return {
    x,
    p50: pick((b) => b.p50_latency_ms),
    max: pick((b) => b.max_latency_ms),
    loss: pick((b) => (b.loss_rate === null ? null : b.loss_rate * 100)),
  }
}

const known = (xs: readonly Value[]): (number | null)[] => xs.filter((v): v is number | null => v !== undefined)

export interface CompareScale extends LinearScale {
  /** Per target: the indices (into `x`) of its buckets whose maximum is above the top. */
  clippedBy: number[][]
}

/**
 * The linear axis as on the target page (chart/scale.ts), over all the targets: its top follows the
 * highest window p99 (or the highest median), and maxima above it are marked.
 */
export function compareScale(series: readonly InsightsOut[], d: CompareData): CompareScale {
  const p99 = series.reduce<number | null>((m, s) => (s.latency_p99_ms !== null && (m === null || s.latency_p99_ms > m) ? s.latency_p99_ms : m), null)
  const s = linearScale(p99, d.p50.flatMap(known), d.max.flatMap(known))
  const clippedBy = d.max.map((xs) => (s.top === null ? [] : xs.flatMap((v, i) => (v != null && v > s.top! ? [i] : []))))
  const clipped = [...new Set(clippedBy.flat())].sort((a, b) => a - b)
  return { ...s, clipped, clippedBy }
}

/** Values with no value either side (across the other targets' times): a line cannot show them. */
export function lonely(xs: readonly Value[]): number[] {
  const out: number[] = []
  let prev: Value = null
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]
    if (v === undefined) continue
    if (v !== null && prev === null) {
      let j = i + 1
      while (j < xs.length && xs[j] === undefined) j++
      if (j >= xs.length || xs[j] === null) out.push(i)
    }
    prev = v
  }
  return out
}

/** A log axis cannot show zero: such values become gaps. */
export const positiveValues = (xs: readonly Value[]): Value[] => xs.map((v) => (v === undefined ? v : v !== null && v > 0 ? v : null))
