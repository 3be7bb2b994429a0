import { formatDuration, formatMs, formatNumber, formatPercent } from '../../../lib/format'
import { cssVar, useTheme } from '../../../lib/theme'
import type { InsightsOut } from '../api/targets'
import { seriesColor } from '../chart/series-colors'

/**
 * The window's figures per site (the insights' `sites`), beside the combined ones above: which vantage
 * point sees the loss or the latency. Each site's key matches its line on the latency chart.
 */
export function SiteBreakdown({ i, onPick }: { i: InsightsOut; onPick: (site: string) => void }) {
  useTheme() // the key colours follow the theme
  if (i.sites.length < 2) return null
  const text = cssVar('--text')
  const approx = i.percentile_max_relative_error > 0 ? '≈ ' : ''
  return (
    <table className="site-breakdown" aria-label="Per site">
      <thead>
        <tr>
          <th scope="col">Site</th>
          <th scope="col">Echoes</th>
          <th scope="col">Loss</th>
          <th scope="col">p50</th>
          <th scope="col">p95</th>
          <th scope="col">Jitter</th>
          <th scope="col">Outages</th>
        </tr>
      </thead>
      <tbody>
        {i.sites.map((s, k) => (
          <tr key={s.site} data-site={s.site}>
            <th scope="row">
              <span className="site-key" aria-hidden="true" style={{ borderTopColor: seriesColor(k, text) }} />
              <button type="button" className="link" onClick={() => onPick(s.site)} title={`Show only what ${s.site} measured`}>
                {s.site}
              </button>
            </th>
            <td className="mono">{formatNumber(s.sample_count)}</td>
            <td className={`mono${s.loss_percent ? ' loss-text' : ''}`}>{formatPercent(s.loss_percent, 2)}</td>
            <td className="mono">{approx + formatMs(s.latency_p50_ms)}</td>
            <td className="mono">{approx + formatMs(s.latency_p95_ms)}</td>
            <td className="mono">{formatMs(s.jitter_ms)}</td>
            <td className="mono" title={`${formatDuration(s.outages.downtime_seconds)} down in this window`}>
              {s.outages.count}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
