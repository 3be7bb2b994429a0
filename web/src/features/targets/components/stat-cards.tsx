import { formatDuration, formatMs, formatNumber, formatPercent } from '../../../lib/format'
import type { InsightsOut } from '../api/targets'

export function StatCards({ i }: { i: InsightsOut }) {
  const approx = i.percentile_max_relative_error > 0 ? '≈ ' : ''
  const cards: { label: string; value: string; title?: string }[] = [
    { label: 'Uptime', value: formatPercent(i.uptime_percent, 3), title: 'replies / echoes' },
    { label: 'Loss', value: formatPercent(i.loss_percent, 2), title: `${formatNumber(i.loss_count)} of ${formatNumber(i.sample_count)} echoes` },
    { label: 'p50', value: approx + formatMs(i.latency_p50_ms) },
    { label: 'p95', value: approx + formatMs(i.latency_p95_ms) },
    { label: 'p99', value: approx + formatMs(i.latency_p99_ms) },
    { label: 'Jitter', value: formatMs(i.jitter_ms), title: 'mean |RTT − previous RTT|' },
    { label: 'MOS', value: formatNumber(i.mos, 2), title: 'simplified E-model, 1–4.5' },
    {
      label: 'Hops',
      value: i.hop_count === null ? '–' : String(i.hop_count),
      title: i.hop_count_min !== null && i.hop_count_min !== i.hop_count_max ? `${i.hop_count_min}–${i.hop_count_max} in this window` : 'estimated from the reply TTL',
    },
    { label: 'Outages', value: String(i.outages.count), title: `${formatDuration(i.outages.downtime_seconds)} down in this window` },
  ]
  return (
    <dl className="stat-cards" aria-label="Window statistics">
      {cards.map((c) => (
        <div key={c.label} className="stat" title={c.title}>
          <dt>{c.label}</dt>
          <dd>{c.value}</dd>
        </div>
      ))}
    </dl>
  )
}
