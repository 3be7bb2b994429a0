import { useState } from 'react'
import { ErrorMessage } from '../../../components/field'
import { ApiError } from '../../../lib/api-client'
import { formatDateTime, formatMs } from '../../../lib/format'
import { tracerouteReason } from '../../../lib/reasons'
import { type TracerouteOut, useRunTraceroute, useTraceroutes } from '../api/targets'

function Hops({ t }: { t: TracerouteOut }) {
  return (
    <table className="data-table" aria-label={`Hops of the traceroute at ${formatDateTime(t.started_at)}`}>
      <thead>
        <tr>
          <th scope="col">Hop</th>
          <th scope="col">Address</th>
          <th scope="col">Host</th>
          <th scope="col">RTT</th>
        </tr>
      </thead>
      <tbody>
        {t.hops.map((h) => (
          <tr key={h.hop} className={h.is_timeout ? 'row-loss' : undefined}>
            <td className="mono">{h.hop}</td>
            <td className="mono">{h.ip ?? '*'}</td>
            <td>{h.host && h.host !== h.ip ? h.host : ''}</td>
            <td className="mono" title={h.is_timeout ? 'no answer from this hop within the wait' : undefined}>
              {h.is_timeout ? 'no answer' : formatMs(h.rtt_ms)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** A failed run (503): a short reason, the server's own text on demand. */
function RunFailed({ detail }: { detail: string }) {
  const { reason, raw } = tracerouteReason(detail)
  return (
    <div className="error-box" role="alert" data-testid="traceroute-error">
      <p>Traceroute failed: {reason}.</p>
      {raw && (
        <details>
          <summary>Server message</summary>
          <code>{raw}</code>
        </details>
      )}
    </div>
  )
}

export function TraceroutePanel({ id, canRun }: { id: number; canRun: boolean }) {
  const history = useTraceroutes(id)
  const run = useRunTraceroute(id)
  const [selected, setSelected] = useState<number | null>(null)
  const runs = history.data ?? []
  const shown = runs.find((t) => t.id === selected) ?? runs[0]

  return (
    <section className="card" aria-labelledby="traceroute-title">
      <div className="card-head">
        <h2 id="traceroute-title">Traceroute</h2>
        {canRun && (
          <button type="button" onClick={() => run.mutate(undefined, { onSuccess: (t) => setSelected(t.id) })} disabled={run.isPending}>
            {run.isPending ? 'Tracing…' : 'Run traceroute'}
          </button>
        )}
      </div>
      {run.error instanceof ApiError && run.error.status === 503 && typeof run.error.detail === 'string' ? (
        <RunFailed detail={run.error.detail} />
      ) : (
        <ErrorMessage error={run.error ?? history.error} />
      )}
      {runs.length === 0 && !history.isPending && <p className="muted">No traceroute yet.</p>}
      {shown && (
        <div className="traceroute" data-testid="traceroute-result">
          <p>
            {formatDateTime(shown.started_at)}: {shown.reached ? 'reached' : 'not reached'} in {shown.hop_count} hops
            {shown.duration_ms !== null && ` (${Math.round(shown.duration_ms)} ms)`}
            {shown.path_changed && <span className="badge badge-warn"> path changed</span>}
          </p>
          <Hops t={shown} />
        </div>
      )}
      {runs.length > 1 && (
        <details>
          <summary>History ({runs.length})</summary>
          <ul className="history">
            {runs.map((t) => (
              <li key={t.id}>
                <button type="button" className="link" aria-pressed={t.id === shown?.id} onClick={() => setSelected(t.id)}>
                  {formatDateTime(t.started_at)}: {t.hop_count} hops{t.reached ? '' : ', not reached'}
                </button>
                {t.path_changed && <span className="badge badge-warn">path changed</span>}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  )
}
