import type uPlot from 'uplot'

// Marks drawn on the plots' canvas: outages shaded, traceroute path changes, clipped maxima.

/** "#rrggbb" with alpha (the theme colours are hex). */
export function alpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color)
  if (!m) return color
  const n = parseInt(m[1]!, 16)
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`
}

export function shadeOutages(color: string, outages: readonly (readonly [number, number])[]) {
  return (u: uPlot) => {
    const { ctx, bbox } = u
    ctx.save()
    ctx.fillStyle = alpha(color, 0.18)
    for (const [a, b] of outages) {
      const x0 = Math.max(bbox.left, u.valToPos(a, 'x', true))
      const x1 = Math.min(bbox.left + bbox.width, u.valToPos(b, 'x', true))
      if (x1 > x0) ctx.fillRect(x0, bbox.top, Math.max(1, x1 - x0), bbox.height)
    }
    ctx.restore()
  }
}

export function markChanges(color: string, changes: number[]) {
  return (u: uPlot) => {
    const { ctx, bbox } = u
    ctx.save()
    ctx.strokeStyle = color
    ctx.fillStyle = color
    ctx.setLineDash([4, 3])
    ctx.lineWidth = devicePixelRatio
    for (const t of changes) {
      const x = Math.round(u.valToPos(t, 'x', true))
      ctx.beginPath()
      ctx.moveTo(x, bbox.top)
      ctx.lineTo(x, bbox.top + bbox.height)
      ctx.stroke()
      ctx.beginPath()
      ctx.moveTo(x - 5 * devicePixelRatio, bbox.top)
      ctx.lineTo(x + 5 * devicePixelRatio, bbox.top)
      ctx.lineTo(x, bbox.top + 7 * devicePixelRatio)
      ctx.fill()
    }
    ctx.restore()
  }
}

/** A small ▲ on the top edge over each bucket whose maximum is above the axis. */
export function markClipped(color: string, x: number[], clipped: () => number[]) {
  return (u: uPlot) => {
    const { ctx, bbox } = u
    const r = 4 * devicePixelRatio
    ctx.save()
    ctx.fillStyle = color
    for (const i of clipped()) {
      const px = u.valToPos(x[i]!, 'x', true)
      if (px < bbox.left || px > bbox.left + bbox.width) continue
      ctx.beginPath()
      ctx.moveTo(px - r, bbox.top + 1.6 * r)
      ctx.lineTo(px + r, bbox.top + 1.6 * r)
      ctx.lineTo(px, bbox.top)
      ctx.fill()
    }
    ctx.restore()
  }
}
