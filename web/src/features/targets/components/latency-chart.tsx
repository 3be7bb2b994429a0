import { useEffect, useMemo, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { cssVar, useTheme } from '../../../lib/theme'
import { useTimeZone } from '../../../lib/time-zone'
import type { InsightsOut, TracerouteOut } from '../api/targets'
import { ChartKeys } from '../chart/chart-keys'
import { lossGradient } from '../chart/loss-colors'
import { alpha, markChanges, markClipped, shadeOutages } from '../chart/overlays'
import { isolated, linearScale, positive } from '../chart/scale'
import { Y_AXIS_SIZE, lossRange, mountPlots, msValue, plotAxes, rttTicks, usePlotWidth, useWidth, zoomOnSelect } from '../chart/plot-kit'
import { seriesColor } from '../chart/series-colors'
import { legendTime, timeLabel } from '../chart/time-axis'

// The target's latency "smoke" (p50 line in a p5–p95 band inside a min–max band) above a loss bar
// chart, cursors in sync, outages shaded on both and traceroute path changes marked. Dragging across
// either chart zooms: the page re-queries that window, so zooming in gets finer buckets. The median is
// coloured by loss (chart/loss-colors.ts), buckets alone between gaps are drawn as points, and the
// linear axis follows the p99 (chart/scale.ts). A target probed from several sites gets each site's
// median as a line of its own over the combined smoke (`sites`: one answer per site, same window).

interface Props {
  insights: InsightsOut
  /** Undefined while loading: a stable value, so the charts are not rebuilt on every render meanwhile. */
  traceroutes: TracerouteOut[] | undefined
  onZoom: (fromMs: number, toMs: number) => void
  log: boolean
  onLogChange: (log: boolean) => void
  /** Each site's insights over the same window, for one p50 line per site (none: no site lines). */
  sites?: readonly InsightsOut[]
}

const sec = (iso: string) => new Date(iso).getTime() / 1000
const NO_SITES: readonly InsightsOut[] = []

/** A site's medians at the combined answer's bucket centres `x` (null where the site has no bucket). */
function siteMedians(x: readonly number[], site: InsightsOut): (number | null)[] {
  const half = site.bucket_seconds / 2
  const at = new Map(site.timeline.map((b) => [sec(b.bucket) + half, b.p50_latency_ms] as const))
  return x.map((t) => at.get(t) ?? null)
}

export function LatencyChart({ insights, traceroutes, onZoom, log, onLogChange, sites = NO_SITES }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const latEl = useRef<HTMLDivElement>(null)
  const lossEl = useRef<HTMLDivElement>(null)
  const charts = useRef<uPlot[]>([])
  const width = useWidth(box)
  const theme = useTheme()
  const zone = useTimeZone()
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
  const siteLines = useMemo(() => sites.map((s) => ({ site: s.site ?? '', p50: siteMedians(data.x, s) })), [sites, data])
  const scale = useMemo(() => linearScale(insights.latency_p99_ms, data.p50, data.max), [insights, data])

  useEffect(() => {
    const latHost = latEl.current
    const lossHost = lossEl.current
    if (!latHost || !lossHost) return
    const c = {
      text: cssVar('--text'),
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

    const select = zoomOnSelect(() => zoom.current)
    const { axis, xAxis, calendar } = plotAxes(zone)
    const common = {
      width,
      cursor: { sync: { key: `target-${insights.target_id}` }, drag: { x: true, y: false, setScale: false } },
      ...(calendar && { tzDate: calendar }),
      hooks: { drawClear: [shadeOutages(c.outage, outages)], setSelect: [select] },
    }
    const ms = msValue
    const rtt = (xs: (number | null)[]) => (log ? positive(xs) : xs)
    const median = lossGradient(data.x, data.loss)
    const lonely = isolated(rtt(data.p50))
    const band = (label: string, a: number) => ({ label, stroke: alpha(c.accent, a), width: 1, value: ms, points: { show: false } })

    const lat = new uPlot(
      {
        ...common,
        height: 260,
        scales: {
          x: { time: true, range: [start, end] },
          // Linear: from 0 to the p99 top (scale.ts); log: uPlot's decades around the data.
          y: log ? { distr: 3, log: 10 } : { range: (_u, _min, max) => [0, scale.top ?? (max > 0 ? max * 1.05 : 1)] },
        },
        hooks: { ...common.hooks, draw: [markChanges(c.marker, changes), markClipped(c.text, data.x, () => (log ? [] : scale.clipped))] },
        series: [
          { value: legendTime },
          band('min', 0.25),
          band('p5', 0.45),
          band('p95', 0.45),
          band('max', 0.25),
          // Last, so the bands' fills do not tint it. Buckets with no neighbour (gaps around them)
          // cannot be drawn as a line: as points instead.
          { label: 'p50', stroke: median, width: 2, value: ms, points: { show: false, size: 6, fill: median, filter: () => lonely } },
          ...siteLines.map((l, i) => {
            const alone = isolated(rtt(l.p50))
            const stroke = seriesColor(i, c.text)
            return { label: `p50 ${l.site}`, stroke, width: 1.5, value: ms, points: { show: false, size: 5, fill: stroke, filter: () => alone } }
          }),
        ],
        bands: [
          { series: [4, 1], fill: alpha(c.accent, 0.1) },
          { series: [3, 2], fill: alpha(c.accent, 0.25) },
        ],
        axes: [{ ...xAxis }, { ...axis, label: `RTT${log ? ' (log)' : ''}`, size: Y_AXIS_SIZE, values: rttTicks }],
      },
      [data.x, rtt(data.min), rtt(data.p5), rtt(data.p95), rtt(data.max), rtt(data.p50), ...siteLines.map((l) => rtt(l.p50))],
      latHost,
    )
    const loss = new uPlot(
      {
        ...common,
        height: 130,
        scales: {
          x: { time: true, range: [start, end] },
          loss: { range: lossRange },
        },
        hooks: { ...common.hooks, draw: [markChanges(c.marker, changes)] },
        series: [
          { value: legendTime },
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
        axes: [
          { ...xAxis, label: timeLabel(zone) },
          { ...axis, scale: 'loss', label: 'loss (%)', size: Y_AXIS_SIZE, space: 20 },
        ],
      },
      [data.x, data.loss],
      lossHost,
    )
    return mountPlots(charts, [
      [latHost, lat],
      [lossHost, loss],
    ])
    // The width is applied by setSize below: re-creating the charts on every resize is not needed.
  }, [data, siteLines, scale, insights, traceroutes, theme, zone, log])

  usePlotWidth(charts, width)

  const gaps = insights.timeline.every((b) => b.sample_count === 0)
  return (
    <figure className="chart" ref={box}>
      <figcaption className="sr-only">
        Latency p50 with p5–p95 and min–max bands{siteLines.length ? `, and the p50 seen from each of ${siteLines.map((l) => l.site).join(', ')}` : ''}, and packet loss, {insights.window_start} to {insights.window_end};{' '}
        {insights.outages.count} outages shaded.
      </figcaption>
      <ChartKeys log={log} onLogChange={onLogChange} scale={scale} />
      {gaps && <p className="chart-empty">No samples in this window.</p>}
      <div ref={latEl} data-testid="latency-chart" />
      <div ref={lossEl} data-testid="loss-chart" />
      <p className="chart-hint muted">
        Drag across a chart to zoom in. <span className="key-outage">shaded</span>: outage · <span className="key-marker">▼</span>: traceroute path change ·{' '}
        <span className="key-clip">▲</span>: maximum above the axis (linear scale)
      </p>
    </figure>
  )
}
