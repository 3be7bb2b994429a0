import { StatusBadge } from '../../../components/status-badge'
import { formatDateTime, formatMs, formatPercent } from '../../../lib/format'
import { Link } from '../../../lib/router'
import type { TargetOut } from '../../fleet/api/fleet'
import { seriesColor, seriesDash } from '../../targets/chart/series-colors'
import type { CompareData } from '../compare-data'
import type { ChartSeries } from './compare-chart'

// The compare chart's legend: one row per drawn target with its line's colour, a link to its page, its
// address and state, its window figures (loss, p50/p95/p99) and its median and loss under the cursor.

interface Props {
  series: ChartSeries[]
  targets: ReadonlyMap<number, TargetOut>
  data: CompareData
  /** The bucket under the cursor, or null. */
  cursor: number | null
  textColor: string
}

export function CompareLegend({ series, targets, data, cursor, textColor }: Props) {
  const at = cursor === null ? null : data.x[cursor]
  return (
    <table className="compare-legend" aria-label="Compared targets">
      <thead>
        <tr>
          <th scope="col">Target</th>
          <th scope="col">Address</th>
          <th scope="col">State</th>
          <th scope="col" className="col-num">
            Loss
          </th>
          <th scope="col" className="col-num">
            p50
          </th>
          <th scope="col" className="col-num">
            p95
          </th>
          <th scope="col" className="col-num">
            p99
          </th>
          <th scope="col" className="col-num" title={at == null ? undefined : formatDateTime(new Date(at * 1000))}>
            {at == null ? 'At cursor' : `At ${formatDateTime(new Date(at * 1000)).slice(11)}`}
          </th>
        </tr>
      </thead>
      <tbody>
        {series.map((s, i) => {
          const t = targets.get(s.id)
          const p50 = cursor === null ? undefined : data.p50[i]![cursor]
          const loss = cursor === null ? undefined : data.loss[i]![cursor]
          const i0 = s.insights
          const dash = seriesDash(s.slot)
          return (
            <tr key={s.id} data-target-id={s.id}>
              <th scope="row">
                <span
                  className="compare-swatch"
                  aria-hidden="true"
                  style={{
                    borderTopColor: seriesColor(s.slot, textColor),
                    borderTopStyle: dash ? 'dashed' : 'solid',
                  }}
                />
                <Link to={`/target/${s.id}`}>{s.label}</Link>
              </th>
              <td className="mono">{t?.ip ?? i0.target_ip}</td>
              <td>{t ? <StatusBadge status={t.state} /> : <span className="muted">–</span>}</td>
              <td className={`col-num mono${i0.loss_percent ? ' loss-text' : ''}`} data-figure="loss">
                {formatPercent(i0.loss_percent, 2)}
              </td>
              <td className="col-num mono" data-figure="p50">
                {formatMs(i0.latency_p50_ms)}
              </td>
              <td className="col-num mono" data-figure="p95">
                {formatMs(i0.latency_p95_ms)}
              </td>
              <td className="col-num mono" data-figure="p99">
                {formatMs(i0.latency_p99_ms)}
              </td>
              <td className="col-num mono" data-figure="cursor">
                {p50 === undefined ? '–' : p50 === null ? (loss ? <span className="loss-text">lost</span> : '–') : formatMs(p50)}
                {loss ? <span className="loss-text"> · {formatPercent(loss, 0)}</span> : null}
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
