import { ErrorMessage } from '../../../components/field'
import { formatMs, formatTime } from '../../../lib/format'
import { SAMPLE_STATUS_TEXT } from '../../../lib/reasons'
import { useLogs } from '../api/targets'

/** The newest samples (of one site, or of every site with a Site column once more than the default one measured). */
export function SamplesTable({ id, site }: { id: number; site: string | null }) {
  const logs = useLogs(id, site)
  const rows = [...(logs.data ?? [])].reverse()
  const showSite = rows.some((s) => s.site !== 'default')
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
                {showSite && <th scope="col">Site</th>}
                <th scope="col">RTT</th>
                <th scope="col">Status</th>
                <th scope="col">TTL</th>
                <th scope="col">Hops</th>
                <th scope="col">Echo</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={`${s.site}-${s.time}-${s.seq}`} className={s.packet_loss ? 'row-loss' : undefined}>
                  <td>{formatTime(s.time)}</td>
                  {showSite && <td>{s.site}</td>}
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
