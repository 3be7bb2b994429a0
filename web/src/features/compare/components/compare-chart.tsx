import { useEffect, useMemo, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { cssVar, useTheme } from '../../../lib/theme'
import { useTimeZone } from '../../../lib/time-zone'
import type { InsightsOut } from '../../targets/api/targets'
import { markClipped } from '../../targets/chart/overlays'
import { Y_AXIS_SIZE, lossRange, mountPlots, msValue, plotAxes, rttTicks, usePlotWidth, useWidth, zoomOnSelect } from '../../targets/chart/plot-kit'
import { legendTime, timeLabel } from '../../targets/chart/time-axis'
import { seriesColor, seriesDash } from '../../targets/chart/series-colors'
import { type CompareData, type CompareScale, lonely, positiveValues } from '../compare-data'

// One latency plot with a median line per target above a small loss plot, both on the same time axis
// with a shared cursor; dragging across either zooms (the page re-queries that window). The linear
// axis follows the highest p99 as the target page's does; the log axis shows everything.

export interface ChartSeries {
  id: number
  label: string
  /** Index in the compared list: the colour stays the target's when another one fails. */
  slot: number
  insights: InsightsOut
}

interface Props {
  series: ChartSeries[]
  data: CompareData
  scale: CompareScale
  start: number
  end: number
  log: boolean
  onZoom: (fromMs: number, toMs: number) => void
  /** The bucket under the cursor (index into data.x), null when the cursor is off the plots. */
  onCursor: (idx: number | null) => void
}

export function CompareChart({ series, data, scale, start, end, log, onZoom, onCursor }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const latEl = useRef<HTMLDivElement>(null)
  const lossEl = useRef<HTMLDivElement>(null)
  const charts = useRef<uPlot[]>([])
  const width = useWidth(box)
  const theme = useTheme()
  const zone = useTimeZone()
  const handlers = useRef({ onZoom, onCursor })
  handlers.current = { onZoom, onCursor }
  const rtt = useMemo(() => data.p50.map((xs) => (log ? positiveValues(xs) : xs)), [data, log])

  useEffect(() => {
    const latHost = latEl.current
    const lossHost = lossEl.current
    if (!latHost || !lossHost) return
    const text = cssVar('--text')
    const color = (slot: number) => seriesColor(slot, text)
    const select = zoomOnSelect(() => handlers.current.onZoom)
    const cursor = (u: uPlot) => handlers.current.onCursor(u.cursor.idx ?? null)
    const { axis, xAxis, calendar } = plotAxes(zone)
    const common = {
      width,
      // The legend is the page's table (window figures and the values under the cursor).
      legend: { show: false },
      cursor: { sync: { key: 'compare' }, drag: { x: true, y: false, setScale: false } },
      ...(calendar && { tzDate: calendar }),
      hooks: { setSelect: [select], setCursor: [cursor] },
    }
    const line = (s: ChartSeries, i: number, scaleKey?: string) => ({
      label: s.label,
      stroke: color(s.slot),
      width: 2,
      dash: seriesDash(s.slot),
      value: msValue,
      ...(scaleKey && { scale: scaleKey }),
      // Buckets alone between gaps cannot be drawn as a line: as points instead.
      points: { show: false, size: 6, fill: color(s.slot), filter: () => lonely(scaleKey ? data.loss[i]! : rtt[i]!) },
    })

    const lat = new uPlot(
      {
        ...common,
        height: 300,
        scales: {
          x: { time: true, range: [start, end] },
          y: log ? { distr: 3, log: 10 } : { range: (_u, _min, max) => [0, scale.top ?? (max > 0 ? max * 1.05 : 1)] },
        },
        hooks: { ...common.hooks, draw: series.map((s, i) => markClipped(color(s.slot), data.x, () => (log ? [] : scale.clippedBy[i]!))) },
        series: [{ value: legendTime }, ...series.map((s, i) => line(s, i))],
        axes: [{ ...xAxis }, { ...axis, label: `RTT p50${log ? ' (log)' : ''}`, size: Y_AXIS_SIZE, values: rttTicks }],
      },
      // uPlot's types say null; `undefined` (no bucket of that target at that time) is what it spans.
      [data.x, ...(rtt as (number | null)[][])],
      latHost,
    )
    const loss = new uPlot(
      {
        ...common,
        height: 120,
        scales: {
          x: { time: true, range: [start, end] },
          loss: { range: lossRange },
        },
        series: [{ value: legendTime }, ...series.map((s, i) => ({ ...line(s, i, 'loss'), width: 1.5, paths: uPlot.paths.stepped!({ align: 1 }) }))],
        axes: [
          { ...xAxis, label: timeLabel(zone) },
          { ...axis, scale: 'loss', label: 'loss (%)', size: Y_AXIS_SIZE, space: 20 },
        ],
      },
      [data.x, ...(data.loss as (number | null)[][])],
      lossHost,
    )
    return mountPlots(charts, [
      [latHost, lat],
      [lossHost, loss],
    ])
    // The width is applied by setSize below: re-creating the charts on every resize is not needed.
  }, [series, data, rtt, scale, start, end, theme, zone, log])

  usePlotWidth(charts, width)

  return (
    <div ref={box}>
      <div ref={latEl} data-testid="compare-chart" />
      <div ref={lossEl} data-testid="compare-loss-chart" />
    </div>
  )
}
