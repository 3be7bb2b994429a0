import { formatPercent } from '../../../lib/format'
import type { UptimeBar } from '../api/status-page'

// 90 days of a target's uptime as a strip of bars, the oldest on the left: green from 99.9 %, amber
// from 99 %, orange from 95 %, red below; grey for a day without echoes. Each bar's title gives its
// day and figures (the strip is also one image for screen readers, with the period's uptime).

export function barLevel(pct: number | null): 'none' | 'ok' | 'minor' | 'major' | 'bad' {
  if (pct === null) return 'none'
  if (pct >= 99.9) return 'ok'
  if (pct >= 99) return 'minor'
  if (pct >= 95) return 'major'
  return 'bad'
}

export const barTitle = (b: UptimeBar) =>
  b.uptime_pct === null ? `${b.day}: no data` : `${b.day}: ${formatPercent(b.uptime_pct, 2)} (${b.received.toLocaleString('en-US')} of ${b.sent.toLocaleString('en-US')} echoes answered)`

export function UptimeBars({ bars, label }: { bars: UptimeBar[]; label: string }) {
  return (
    <div className="uptime-bars" role="img" aria-label={label} data-testid="uptime-bars">
      {bars.map((b) => (
        <span key={b.day} className={`uptime-bar bar-${barLevel(b.uptime_pct)}`} title={barTitle(b)} data-day={b.day} data-uptime={b.uptime_pct ?? ''} />
      ))}
    </div>
  )
}
