import { type RefObject, useEffect, useMemo, useRef, useState } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { formatMs } from '../../../lib/format'
import { cssVar, useTheme } from '../../../lib/theme'
import type { InsightsOut, TracerouteOut } from '../api/targets'

// The target's latency "smoke" (p50 line in a p5–p95 band inside a min–max band) above a loss bar
// chart, cursors in sync, outages shaded on both and traceroute path changes marked. Dragging across
// either chart zooms: the page re-queries that window, so zooming in gets finer buckets.

interface Props {
  insights: InsightsOut
  /** Undefined while loading: a stable value, so the charts are not rebuilt on every render meanwhile. */
  traceroutes: TracerouteOut[] | undefined
  onZoom: (fromMs: number, toMs: number) => void
}

const sec = (iso: string) => new Date(iso).getTime() / 1000

function alpha(color: string, a: number): string {
  // The theme colours are hex (#rrggbb).
  const m = /^#([0-9a-f]{6})$/i.exec(color)
  if (!m) return color
  const n = parseInt(m[1]!, 16)
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`
}

function useWidth(ref: RefObject<HTMLElement | null>): number {
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

export function LatencyChart({ insights, traceroutes, onZoom }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const latEl = useRef<HTMLDivElement>(null)
  const lossEl = useRef<HTMLDivElement>(null)
  const charts = useRef<uPlot[]>([])
  const width = useWidth(box)
  const theme = useTheme()
  const zoom = useRef(onZoom)
  zoom.current = onZoom

  const data = useMemo(() => {
    const half = insights.bucket_seconds / 2
    const t = insights.timeline
    return {
      x: t.map((b) => sec(b.bucket) + half),
      min: t.map((b) => b.min_latency_ms),
      p5: t.map((b) => b.p5_latency_ms),
      p50: t.map((b) => b.p50_latency_ms),
      p95: t.map((b) => b.p95_latency_ms),
      max: t.map((b) => b.max_latency_ms),
      loss: t.map((b) => (b.loss_rate === null ? null : b.loss_rate * 100)),
    }
  }, [insights])

  useEffect(() => {
    if (!latEl.current || !lossEl.current) return
    const c = {
      text: cssVar('--text-muted'),
      grid: cssVar('--grid'),
      accent: cssVar('--accent'),
      loss: cssVar('--loss'),
      outage: cssVar('--outage'),
      marker: cssVar('--marker'),
    }
    const start = sec(insights.window_start)
    const end = sec(insights.window_end)
    const now = Date.now() / 1000
    const outages = insights.outages.items.map((o) => [sec(o.started_at), o.ended_at ? sec(o.ended_at) : now] as const)
    const changes = (traceroutes ?? []).filter((t) => t.path_changed).map((t) => sec(t.started_at)).filter((t) => t >= start && t <= end)

    const shadeOutages = (u: uPlot) => {
      const { ctx, bbox } = u
      ctx.save()
      ctx.fillStyle = alpha(c.outage, 0.18)
      for (const [a, b] of outages) {
        const x0 = Math.max(bbox.left, u.valToPos(a, 'x', true))
        const x1 = Math.min(bbox.left + bbox.width, u.valToPos(b, 'x', true))
        if (x1 > x0) ctx.fillRect(x0, bbox.top, Math.max(1, x1 - x0), bbox.height)
      }
      ctx.restore()
    }
    const markChanges = (u: uPlot) => {
      const { ctx, bbox } = u
      ctx.save()
      ctx.strokeStyle = c.marker
      ctx.fillStyle = c.marker
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
    const select = (u: uPlot) => {
      if (u.select.width < 5) return
      const from = u.posToVal(u.select.left, 'x') * 1000
      const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
      zoom.current(Math.floor(from), Math.max(Math.ceil(to), Math.floor(from) + 60_000))
    }
    const axis = { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } }
    const common = {
      width,
      cursor: { sync: { key: `target-${insights.target_id}` }, drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true, range: [start, end] as uPlot.Range.MinMax } },
      hooks: { drawClear: [shadeOutages], draw: [markChanges], setSelect: [select] },
    }
    const ms = (_u: uPlot, v: number | null) => (v === null ? '–' : formatMs(v))

    const lat = new uPlot(
      {
        ...common,
        height: 260,
        series: [
          {},
          { label: 'min', stroke: alpha(c.accent, 0.25), width: 1, value: ms, points: { show: false } },
          { label: 'p5', stroke: alpha(c.accent, 0.45), width: 1, value: ms, points: { show: false } },
          { label: 'p50', stroke: c.accent, width: 2, value: ms, points: { show: false } },
          { label: 'p95', stroke: alpha(c.accent, 0.45), width: 1, value: ms, points: { show: false } },
          { label: 'max', stroke: alpha(c.accent, 0.25), width: 1, value: ms, points: { show: false } },
        ],
        bands: [
          { series: [5, 1], fill: alpha(c.accent, 0.1) },
          { series: [4, 2], fill: alpha(c.accent, 0.25) },
        ],
        // One unit per axis: µs when every tick is below a millisecond (loopback), else ms.
        axes: [
          axis,
          {
            ...axis,
            label: 'RTT',
            size: 64,
            values: (_u, vals) =>
              Math.max(...vals.map(Math.abs)) < 1 ? vals.map((v) => `${+(v * 1000).toFixed(1)} µs`) : vals.map((v) => `${+v.toFixed(2)} ms`),
          },
        ],
      },
      [data.x, data.min, data.p5, data.p50, data.p95, data.max],
      latEl.current,
    )
    const loss = new uPlot(
      {
        ...common,
        height: 110,
        legend: { show: true },
        // Small losses stay visible: the scale ends at the next 5 % above the worst bucket.
        scales: { ...common.scales, loss: { range: (_u, _min, max) => [0, Math.min(100, Math.max(5, Math.ceil((max || 0) / 5) * 5))] } },
        series: [
          {},
          {
            label: 'loss',
            scale: 'loss',
            stroke: c.loss,
            fill: alpha(c.loss, 0.6),
            width: 0,
            paths: uPlot.paths.bars!({ size: [0.9, 64] }),
            points: { show: false },
            value: (_u, v) => (v === null ? '–' : `${v.toFixed(2)} %`),
          },
        ],
        axes: [axis, { ...axis, scale: 'loss', label: 'loss (%)', size: 60, space: 20 }],
      },
      [data.x, data.loss],
      lossEl.current,
    )
    charts.current = [lat, loss]
    return () => {
      lat.destroy()
      loss.destroy()
      charts.current = []
    }
    // The width is applied by setSize below: re-creating the charts on every resize is not needed.
  }, [data, insights, traceroutes, theme])

  useEffect(() => {
    for (const u of charts.current) u.setSize({ width, height: u.height })
  }, [width])

  const gaps = insights.timeline.every((b) => b.sample_count === 0)
  return (
    <figure className="chart" ref={box}>
      <figcaption className="sr-only">
        Latency p50 with p5–p95 and min–max bands, and packet loss, {insights.window_start} to {insights.window_end}; {insights.outages.count} outages shaded.
      </figcaption>
      {gaps && <p className="chart-empty">No samples in this window.</p>}
      <div ref={latEl} data-testid="latency-chart" />
      <div ref={lossEl} data-testid="loss-chart" />
      <p className="chart-hint muted">
        Drag across a chart to zoom in. <span className="key-outage">shaded</span>: outage · <span className="key-marker">▼</span>: traceroute path change
      </p>
    </figure>
  )
}
