import type uPlot from 'uplot'

// The median line is coloured by the loss of its bucket, as SmokePing does: green without loss, then
// blue, yellow, orange and red as loss grows. The chart's legend lists these bands (LOSS_BANDS).

export interface LossBand {
  /** Upper bound of the band, in percent (inclusive). */
  max: number
  label: string
  color: string
}

export const LOSS_BANDS: readonly LossBand[] = [
  { max: 0, label: '0 %', color: '#16a34a' },
  { max: 5, label: '≤ 5 %', color: '#2b7de9' },
  { max: 10, label: '≤ 10 %', color: '#d4a20b' },
  { max: 25, label: '≤ 25 %', color: '#ea6a0c' },
  { max: 100, label: '> 25 %', color: '#dc2626' },
]

export function lossColor(lossPercent: number | null): string {
  const p = lossPercent ?? 0
  return (LOSS_BANDS.find((b) => p <= b.max) ?? LOSS_BANDS[LOSS_BANDS.length - 1]!).color
}

/**
 * A stroke for the median series: a horizontal gradient with hard stops halfway between buckets, so
 * each bucket's stretch of the line (and its point) has its bucket's loss colour. Rebuilt on every
 * draw (uPlot calls it per draw), so zooming and resizing keep the stops in place.
 */
export function lossGradient(x: number[], lossPercent: (number | null)[]) {
  return (u: uPlot): CanvasGradient | string => {
    const colors = lossPercent.map(lossColor)
    const left = u.bbox?.left
    const width = Math.max(1, u.bbox?.width ?? 0)
    // Before the first layout uPlot has no plotting box yet.
    if (!x.length || !Number.isFinite(left) || !Number.isFinite(width)) return colors[0] ?? LOSS_BANDS[0]!.color
    const g = u.ctx.createLinearGradient(left, 0, left + width, 0)
    const at = (px: number) => Math.min(1, Math.max(0, (px - left) / width))
    g.addColorStop(0, colors[0]!)
    let last = 0
    for (let i = 1; i < x.length; i++) {
      if (colors[i] === colors[i - 1]) continue
      const mid = at((u.valToPos(x[i - 1]!, 'x', true) + u.valToPos(x[i]!, 'x', true)) / 2)
      if (!Number.isFinite(mid)) continue
      const stop = Math.max(last, mid)
      g.addColorStop(stop, colors[i - 1]!)
      g.addColorStop(stop, colors[i]!)
      last = stop
    }
    g.addColorStop(1, colors[x.length - 1]!)
    return g
  }
}
