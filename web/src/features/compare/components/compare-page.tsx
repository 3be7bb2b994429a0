import { useMemo, useState } from 'react'
import { ErrorMessage } from '../../../components/field'
import { formatInterval, formatMs } from '../../../lib/format'
import { cssVar, useTheme } from '../../../lib/theme'
import { Link, updateSearch, useSearchParams } from '../../../lib/router'
import '../../../styles/compare.css'
import { useTargets } from '../../fleet/api/fleet'
import type { Range } from '../../targets/api/targets'
import { logFromSearch, logToSearch, rangeFromSearch, rangeToSearch } from '../../targets/chart/chart-url'
import { RangeBar } from '../../targets/chart/range-bar'
import { useCompareInsights } from '../api/compare'
import { compareScale, joinTimelines } from '../compare-data'
import { MAX_COMPARE, parseIds, selectionToSearch } from '../compare-url'
import { type ChartSeries, CompareChart } from './compare-chart'
import { CompareLegend } from './compare-legend'

// /compare?ids=3,17,42: the medians of up to eight targets over one window on one chart, with the
// target page's range buttons, zoom and log scale in the URL (chart/chart-url.ts). Ids that cannot be
// compared (not numbers, repeated, past the eighth, missing or unreadable targets) are each named in a
// message; the others still draw.

const sec = (iso: string) => new Date(iso).getTime() / 1000

function list(xs: readonly (string | number)[]): string {
  return xs.map(String).join(', ')
}

export function ComparePage() {
  const params = useSearchParams()
  const parsed = useMemo(() => parseIds(params.get('ids')), [params])
  const ids = useMemo(() => parsed.ids.slice(0, MAX_COMPARE), [parsed])
  const dropped = parsed.ids.slice(MAX_COMPARE)
  const range = useMemo(() => rangeFromSearch(params), [params])
  const log = logFromSearch(params)
  const setRange = (r: Range) => updateSearch(rangeToSearch(r))
  const targets = useTargets()
  const results = useCompareInsights(ids, range)
  const [cursor, setCursor] = useState<number | null>(null)
  const theme = useTheme()
  // Read again when the theme (and with it the variable's value) changes.
  const textColor = useMemo(() => (theme ? cssVar('--text') : ''), [theme])

  const byId = useMemo(() => new Map((targets.data ?? []).map((t) => [t.id, t])), [targets.data])
  const series = useMemo<ChartSeries[]>(
    () =>
      (results.data ?? []).flatMap((r) => {
        const slot = ids.indexOf(r.id)
        if (!r.ok || slot < 0) return []
        const t = byId.get(r.id)
        return [{ id: r.id, slot, label: t ? (t.name ?? t.ip) : r.insights.target_ip, insights: r.insights }]
      }),
    [results.data, ids, byId],
  )
  const failed = (results.data ?? []).filter((r) => !r.ok)
  const data = useMemo(() => joinTimelines(series.map((s) => s.insights)), [series])
  const scale = useMemo(() => compareScale(series.map((s) => s.insights), data), [series, data])
  const start = series.length ? Math.min(...series.map((s) => sec(s.insights.window_start))) : 0
  const end = series.length ? Math.max(...series.map((s) => sec(s.insights.window_end))) : 0
  const buckets = [...new Set(series.map((s) => s.insights.bucket_seconds))].sort((a, b) => a - b)
  const tiers = [...new Set(series.map((s) => (s.insights.tier === 'raw' ? 'raw samples' : `${s.insights.tier} rollups`)))]

  const problems: string[] = []
  if (parsed.invalid.length) problems.push(`Not target ids, left out: ${list(parsed.invalid)}.`)
  if (parsed.duplicates.length) problems.push(`Listed more than once, shown once: ${list(parsed.duplicates)}.`)
  if (dropped.length) problems.push(`Compare takes up to ${MAX_COMPARE} targets: ${list(dropped)} left out.`)

  return (
    <section className="compare-page" aria-labelledby="compare-title">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to={ids.length ? `/?${new URLSearchParams(selectionToSearch(ids) as Record<string, string>)}` : '/'}>Fleet</Link> / <span>Compare</span>
      </nav>
      <div className="page-head">
        <h1 id="compare-title">Compare</h1>
        <span className="muted">
          {ids.length} target{ids.length === 1 ? '' : 's'}, median RTT per bucket
        </span>
      </div>
      {problems.length > 0 && (
        <ul className="compare-problems notice" data-testid="compare-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {ids.length === 0 ? (
        <p className="empty">
          No targets to compare. Select up to {MAX_COMPARE} in the <Link to="/">fleet</Link> and choose Compare.
        </p>
      ) : (
        <>
          <RangeBar range={range} onRange={setRange}>
            {series.length > 0 && (
              <span className="muted" data-testid="compare-meta">
                {tiers.join(' and ')}, {buckets.map(formatInterval).join(' / ')} buckets
                {results.isFetching ? ' · updating…' : ''}
              </span>
            )}
          </RangeBar>
          {failed.length > 0 && (
            <ul className="compare-failures error-box" role="alert" data-testid="compare-failures">
              {failed.map((r) =>
                r.ok ? null : (
                  <li key={r.id} data-target-id={r.id}>
                    {r.notFound ? `Target ${r.id} was not found: it may have been deleted.` : `Target ${r.id} could not be read: ${r.error.message}`}
                  </li>
                ),
              )}
            </ul>
          )}
          <ErrorMessage error={results.error} />
          {results.isPending && <p className="muted">Loading…</p>}
          {series.length > 0 && (
            <figure className="chart compare-chart">
              <figcaption className="sr-only">
                Median latency of {series.map((s) => s.label).join(', ')}, and their packet loss, {new Date(start * 1000).toISOString()} to{' '}
                {new Date(end * 1000).toISOString()}.
              </figcaption>
              <div className="chart-keys">
                <label className="log-toggle">
                  <input type="checkbox" checked={log} onChange={(e) => updateSearch(logToSearch(e.target.checked), { replace: true })} /> Log scale
                </label>
                {!log && scale.clipped.length > 0 && (
                  <span className="clip-note" data-testid="clip-note">
                    <span className="key-clip" aria-hidden="true">
                      ▲
                    </span>{' '}
                    axis cut at {formatMs(scale.top)}: a maximum above it in {scale.clipped.length} bucket{scale.clipped.length > 1 ? 's' : ''}, up to{' '}
                    {formatMs(scale.clippedMax)}
                  </span>
                )}
              </div>
              {data.x.length === 0 || series.every((s) => s.insights.sample_count === 0) ? <p className="chart-empty">No samples in this window.</p> : null}
              <CompareChart series={series} data={data} scale={scale} start={start} end={end} log={log} onZoom={(from, to) => setRange({ from, to })} onCursor={setCursor} />
              <CompareLegend series={series} targets={byId} data={data} cursor={cursor} textColor={textColor} />
              <p className="chart-hint muted">
                Drag across a chart to zoom in. Lines: each target&apos;s median (p50) RTT per bucket; below, its loss. <span className="key-clip">▲</span>: a maximum
                above the axis (linear scale), in its target&apos;s colour.
              </p>
            </figure>
          )}
        </>
      )}
    </section>
  )
}
