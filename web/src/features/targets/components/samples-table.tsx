import { ErrorMessage } from '../../../components/field'
import { formatMs, formatTime } from '../../../lib/format'
import { SAMPLE_STATUS_TEXT } from '../../../lib/reasons'
import { useLogs } from '../api/targets'

export function SamplesTable({ id }: { id: number }) {
  const logs = useLogs(id)
  const rows = [...(logs.data ?? [])].reverse()
  return (
    <section className="card" aria-labelledby="samples-title">
      <h2 id="samples-title">Latest samples</h2>
      <ErrorMessage error={logs.error} />
      {rows.length === 0 && !logs.isPending ? (
        <p className="muted">No samples yet.</p>
      ) : (
        <div className="scroll-y">
          <table className="data-table" aria-labelledby="samples-title">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">RTT</th>
                <th scope="col">Status</th>
                <th scope="col">TTL</th>
                <th scope="col">Hops</th>
                <th scope="col">Echo</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={`${s.time}-${s.seq}`} className={s.packet_loss ? 'row-loss' : undefined}>
                  <td>{formatTime(s.time)}</td>
                  <td className="mono">{formatMs(s.latency_ms)}</td>
                  <td title={SAMPLE_STATUS_TEXT[s.status]?.title}>{SAMPLE_STATUS_TEXT[s.status]?.label ?? s.status}</td>
                  <td className="mono">{s.ttl ?? '–'}</td>
                  <td className="mono">{s.hops ?? '–'}</td>
                  <td className="mono">{s.seq + 1}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
