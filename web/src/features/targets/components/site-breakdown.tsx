import { formatDuration, formatMs, formatNumber, formatPercent } from '../../../lib/format'
import { cssVar, useTheme } from '../../../lib/theme'
import type { InsightsOut } from '../api/targets'
import { seriesColor } from '../chart/series-colors'

const COLUMNS = ['Site', 'Echoes', 'Loss', 'p50', 'p95', 'Jitter', 'Outages']

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
          {COLUMNS.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
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
