import { ErrorMessage } from '../../../components/field'
import { StatusBadge } from '../../../components/status-badge'
import { ApiError } from '../../../lib/api-client'
import { formatDateTime, formatDuration, formatPercent } from '../../../lib/format'
import { stateAge } from '../../../lib/status'
import { type PublicStatusOut, type PublicTarget, usePublicStatus } from '../api/status-page'
import { UptimeBars } from './uptime-bars'

// The public status page of a tag (/status/{tag}), shown without signing in: its title and overall
// state, each target's state with since when, 90 days of daily uptime and the incidents of those 90
// days. Everything comes from GET /public/status/{tag}; nothing here decides a state.

const OVERALL: Record<PublicStatusOut['state'], string> = {
  up: 'All systems operational',
  degraded: 'Degraded performance',
  down: 'Outage',
  unknown: 'Status unknown',
  paused: 'Monitoring paused',
}

function TargetRow({ t }: { t: PublicTarget }) {
  const first = t.bars[0]?.day ?? ''
  return (
    <li className="status-target" data-testid="status-target" data-target-id={t.id}>
      <div className="status-target-head">
        <span className="status-target-name">{t.name}</span>
        <StatusBadge status={t.state} title={`${t.state} since ${formatDateTime(t.state_since)}`} />
        {t.state !== 'up' && (
          <small className="state-since" data-testid="status-since">
            {t.state} since {formatDateTime(t.state_since)} ({stateAge(t.state_since)})
          </small>
        )}
        <span className="status-target-uptime" data-testid="uptime-90d">
          {t.uptime_pct === null ? 'no data' : `${formatPercent(t.uptime_pct, 2)} uptime`}
        </span>
      </div>
      <UptimeBars bars={t.bars} label={`${t.name}: daily uptime since ${first}, ${t.uptime_pct === null ? 'no data' : formatPercent(t.uptime_pct, 2)} over 90 days`} />
      <div className="uptime-axis muted" aria-hidden="true">
        <span>90 days ago</span>
        <span>today</span>
      </div>
    </li>
  )
}

function Incidents({ incidents }: { incidents: PublicStatusOut['incidents'] }) {
  if (incidents.length === 0) return <p className="muted">No incidents in the last 90 days.</p>
  return (
    <ul className="status-incidents" data-testid="status-incidents">
      {incidents.map((i) => {
        const end = i.ended_at ? Date.parse(i.ended_at) : Date.now()
        return (
          <li key={i.id} className={`status-incident incident-${i.state}`}>
            <span className={`badge ${i.state === 'open' ? 'badge-warn' : ''}`}>{i.state}</span> <b>{i.rule_name}</b> on {i.target_name}
            <div className="muted">
              {formatDateTime(i.started_at)} → {i.ended_at ? formatDateTime(i.ended_at) : 'ongoing'} ({formatDuration((end - Date.parse(i.started_at)) / 1000)})
            </div>
          </li>
        )
      })}
    </ul>
  )
}

export function PublicStatusPage({ tag }: { tag: string }) {
  const status = usePublicStatus(tag)
  const s = status.data
  const missing = status.error instanceof ApiError && status.error.status === 404
  return (
    <main id="main" className="status-page">
      {!s && (missing ? <h1>Status page not found</h1> : status.error ? <ErrorMessage error={status.error} /> : <p className="muted">Loading…</p>)}
      {s && (
        <>
          <header className={`status-page-head status-head-${s.state}`}>
            <h1>{s.title}</h1>
            {s.description && <p className="status-description">{s.description}</p>}
            <p className="status-overall" data-testid="status-overall">
              <StatusBadge status={s.state} /> <span>{OVERALL[s.state]}</span>
            </p>
            <p className="muted status-counts" data-testid="status-counts">
              {(['up', 'degraded', 'down', 'unknown', 'paused'] as const)
                .filter((k) => s.counts[k] > 0)
                .map((k) => `${s.counts[k]} ${k}`)
                .join(' · ') || 'No targets'}
              {' · '}updated {formatDateTime(s.generated_at)}
            </p>
          </header>
          <section className="card" aria-labelledby="status-targets-title">
            <h2 id="status-targets-title">Targets</h2>
            {s.truncated && (
              <p className="notice">
                Showing {s.targets.length} of {s.total_targets} targets.
              </p>
            )}
            {s.targets.length === 0 ? (
              <p className="muted">No targets carry this tag yet.</p>
            ) : (
              <ul className="status-targets">
                {s.targets.map((t) => (
                  <TargetRow key={t.id} t={t} />
                ))}
              </ul>
            )}
          </section>
          <section className="card" aria-labelledby="status-incidents-title">
            <h2 id="status-incidents-title">Incidents</h2>
            <Incidents incidents={s.incidents} />
          </section>
        </>
      )}
      <footer className="muted status-footer">Monitored by pingscope</footer>
    </main>
  )
}
