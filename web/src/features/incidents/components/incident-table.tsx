import { Link } from '../../../lib/router'
import { formatDateTime } from '../../../lib/format'
import type { IncidentOut } from '../api/incidents'
import { END_REASONS, conditionLabel, formatValue, incidentWhen, targetLabel } from '../incident-format'

// One table for open incidents and for the history: severity (coloured), rule, target (linked to its
// page), when, peak in its unit, and who acknowledged it. The id links to the incident's page.

export function SeverityBadge({ severity }: { severity: string }) {
  return <span className={`severity severity-${severity}`}>{severity}</span>
}

export function IncidentTable({ items, label }: { items: IncidentOut[]; label: string }) {
  return (
    <div className="wide-table">
      <table className="data-table incident-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Incident</th>
            <th scope="col">Severity</th>
            <th scope="col">Rule</th>
            <th scope="col">Target</th>
            <th scope="col">When</th>
            <th scope="col">Peak</th>
            <th scope="col">Acknowledged</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.id} data-incident-id={i.id} className={`severity-row-${i.severity}`}>
              <td>
                <Link to={`/incidents/${i.id}`}>#{i.id}</Link>
              </td>
              <td>
                <SeverityBadge severity={i.severity} />
              </td>
              <td>
                {i.rule_name} <small className="muted">{conditionLabel(i.condition)}</small>
              </td>
              <td>
                <Link to={`/target/${i.target_id}`}>{targetLabel(i)}</Link>
              </td>
              <td>
                {incidentWhen(i)}
                {i.end_reason && <small className="muted"> · {END_REASONS[i.end_reason] ?? i.end_reason}</small>}
              </td>
              <td className="col-num">{formatValue(i.peak, i.unit)}</td>
              <td>{i.acknowledged_by ? <span title={formatDateTime(i.acknowledged_at)}>{i.acknowledged_by}</span> : <span className="muted">no</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
