import { type RefObject, useEffect, useState } from 'react'
import type uPlot from 'uplot'
import { formatMs } from '../../../lib/format'
import { cssVar } from '../../../lib/theme'
import type { TimeZoneChoice } from '../../../lib/time-zone'
import { X_SPACE, timeAxisValues, tzDate } from './time-axis'

// What every latency/loss plot pair shares (the target page's chart, the compare view): the width
// observer, the aligned y axes, the tick and value formats, drag-to-zoom, the axis styles and the loss
// scale, and the plot exposed on its element for the Chromium tests that read its data.

/** Both plots' y axes are this wide, so their plotting areas (and the shared cursor) line up. */
export const Y_AXIS_SIZE = 64

/** The element's width, followed as it resizes (at least 300 px). */
export function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [w, setW] = useState(800)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const ro = new ResizeObserver(() => setW(Math.max(300, Math.floor(el.clientWidth))))
    ro.observe(el)
    return () => ro.disconnect()
  }, [ref])
  return w
}

/** The plot on its element, for the tests in test/web (which read its data and geometry). */
export const exposePlot = (el: HTMLElement, u: uPlot | undefined) => Object.assign(el, { uplot: u })

/** Latency tick labels: µs when every tick is below a millisecond (loopback), else ms. */
export function rttTicks(_u: uPlot, vals: (number | null)[]): string[] {
  const shown = vals.filter((v): v is number => v !== null)
  const micro = shown.length > 0 && Math.max(...shown.map(Math.abs)) < 1
  return vals.map((v) => (v === null ? '' : micro ? `${+(v * 1000).toFixed(1)} µs` : `${+v.toPrecision(3)} ms`))
}

/** A latency value in the legend or under the cursor. */
export const msValue = (_u: uPlot, v: number | null) => (v === null ? '–' : formatMs(v))

/** A setSelect hook: a drag across the plot (5 px or more) asks for that window, at least a minute. */
export function zoomOnSelect(onZoom: () => (fromMs: number, toMs: number) => void) {
  return (u: uPlot) => {
    if (u.select.width < 5) return
    const from = u.posToVal(u.select.left, 'x') * 1000
    const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
    onZoom()(Math.floor(from), Math.max(Math.ceil(to), Math.floor(from) + 60_000))
  }
}

/** The theme's axis styles, the time axis in the zone, and uPlot's calendar for that zone. */
export function plotAxes(zone: TimeZoneChoice) {
  const c = { muted: cssVar('--text-muted'), grid: cssVar('--grid') }
  const axis = { stroke: c.muted, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } }
  return { axis, xAxis: { ...axis, space: X_SPACE, values: timeAxisValues(zone) }, calendar: tzDate(zone) }
}

/** The loss scale: small losses stay visible, it ends at the next 5 % above the worst bucket. */
export const lossRange = (_u: uPlot, _min: number, max: number): [number, number] => [0, Math.min(100, Math.max(5, Math.ceil((max || 0) / 5) * 5))]

/** Resizes the plots to the width without re-creating them. */
export function usePlotWidth(charts: RefObject<uPlot[]>, width: number) {
  useEffect(() => {
    for (const u of charts.current) u.setSize({ width, height: u.height })
  }, [charts, width])
}

/** Keeps the plots (for resizing, and on their elements for the tests); returns the effect's cleanup. */
export function mountPlots(charts: RefObject<uPlot[]>, plots: [HTMLElement, uPlot][]): () => void {
  charts.current = plots.map(([, u]) => u)
  for (const [el, u] of plots) exposePlot(el, u)
  return () => {
    for (const [el, u] of plots) {
      u.destroy()
      exposePlot(el, undefined)
    }
    charts.current = []
  }
}
