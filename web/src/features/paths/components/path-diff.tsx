import { useId } from 'react'
import { ErrorMessage } from '../../../components/field'
import { formatDateTime, formatMs, formatPercent } from '../../../lib/format'
import { type PathDiffOut, type PathRun, usePathDiff } from '../api/paths'
import { runLabel } from '../path-model'

// Two runs side by side, hop by hop (GET /targets/:id/path-diff): picked by clicking two columns of the
// hop × time view, or in the two lists here; hops whose answering address differs are highlighted.

function RunSelect({ label, value, runs, letterOf, onChange }: { label: string; value: number | null; runs: PathRun[]; letterOf: (r: PathRun) => string | undefined; onChange: (id: number | null) => void }) {
  const id = useId()
  return (
    <div className="field-inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)}>
        <option value="">–</option>
        {runs
          .slice()
          .reverse()
          .map((r) => (
            <option key={r.id} value={r.id}>
              {runLabel(r, letterOf(r))}
            </option>
          ))}
      </select>
    </div>
  )
}

function DiffTable({ d }: { d: PathDiffOut }) {
  const changed = d.hops.filter((h) => h.changed).length
  return (
    <>
      <p data-testid="path-diff-summary">
        {d.same_path ? 'Same path' : `Different paths: ${changed} of ${d.hops.length} hop${d.hops.length === 1 ? '' : 's'} changed`}
      </p>
      <div className="path-table-scroll">
        <table className="data-table path-diff" aria-label="Path diff">
          <thead>
            <tr>
              <th scope="col" rowSpan={2}>
                Hop
              </th>
              <th scope="colgroup" colSpan={3}>
                A: {formatDateTime(d.a.started_at)}
              </th>
              <th scope="colgroup" colSpan={3}>
                B: {formatDateTime(d.b.started_at)}
              </th>
              <th scope="col" rowSpan={2}>
                <span className="sr-only">Changed</span>
              </th>
            </tr>
            <tr>
              {['A', 'B'].flatMap((s) => [
                <th key={`${s}-ip`} scope="col">
                  Address
                </th>,
                <th key={`${s}-loss`} scope="col">
                  Loss
                </th>,
                <th key={`${s}-rtt`} scope="col">
                  Mean RTT
                </th>,
              ])}
            </tr>
          </thead>
          <tbody>
            {d.hops.map((h) => (
              <tr key={h.hop} className={h.changed ? 'hop-changed' : undefined} data-changed={h.changed}>
                <td className="mono">{h.hop}</td>
                {[h.a, h.b].flatMap((s, i) => [
                  <td key={`${i}-ip`} className="mono">
                    {s.ip ?? (s.loss_pct === null ? '' : '*')}
                  </td>,
                  <td key={`${i}-loss`} className="mono">
                    {formatPercent(s.loss_pct, 0)}
                  </td>,
                  <td key={`${i}-rtt`} className="mono">
                    {formatMs(s.rtt_avg_ms)}
                  </td>,
                ])}
                <td>{h.changed ? 'changed' : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}

export function PathDiff({
  targetId,
  runs,
  picked,
  letterOf,
  onChange,
}: {
  targetId: number
  runs: PathRun[]
  picked: { a: number | null; b: number | null }
  letterOf: (r: PathRun) => string | undefined
  onChange: (p: { a: number | null; b: number | null }) => void
}) {
  const pair: [number, number] | null = picked.a !== null && picked.b !== null ? [picked.a, picked.b] : null
  const diff = usePathDiff(targetId, pair)
  return (
    <section className="path-diff-section" aria-labelledby={`path-diff-title-${targetId}`}>
      <h3 id={`path-diff-title-${targetId}`}>Compare two runs</h3>
      <div className="inline-form">
        <RunSelect label="Run A" value={picked.a} runs={runs} letterOf={letterOf} onChange={(a) => onChange({ ...picked, a })} />
        <RunSelect label="Run B" value={picked.b} runs={runs} letterOf={letterOf} onChange={(b) => onChange({ ...picked, b })} />
      </div>
      {!pair && <p className="muted">Click two runs in the view above, or pick them here.</p>}
      <ErrorMessage error={diff.error} />
      {pair && diff.data && <DiffTable d={diff.data} />}
    </section>
  )
}
