import { useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Field } from '../../../components/field'
import { ApiError } from '../../../lib/api-client'
import { Link } from '../../../lib/router'
import { type StatusMessage, type TargetInput, createTarget } from '../api/targets'
import { TargetForm, parseTags } from './target-form'

// Add one target with the full form, or import many: one per line, "address[, name[, tags…]]". Each
// line is its own request, and each result says what the API said about it (field named).

interface ImportResult {
  line: number
  text: string
  ok: boolean
  message: string
  id?: number
}

function parseLine(line: string): TargetInput {
  const [ip = '', name = '', ...tags] = line.split(',').map((s) => s.trim())
  return { ip, ...(name ? { name } : {}), tags: parseTags(tags.join(' ')) }
}

function ImportTargets({ isAdmin }: { isAdmin: boolean }) {
  const qc = useQueryClient()
  const [text, setText] = useState('')
  const [frequency, setFrequency] = useState('60')
  const [results, setResults] = useState<ImportResult[]>([])
  const [busy, setBusy] = useState(false)

  async function submit(e: FormEvent) {
    e.preventDefault()
    const lines = text
      .split('\n')
      .map((l, i) => ({ line: i + 1, text: l.trim() }))
      .filter((l) => l.text && !l.text.startsWith('#'))
    setBusy(true)
    setResults([])
    const out: ImportResult[] = []
    // A few at a time: a long list must not open hundreds of requests at once.
    const queue = [...lines]
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let l = queue.shift(); l; l = queue.shift()) {
          try {
            const r = await createTarget({ ...parseLine(l.text), frequency: Number(frequency) })
            out.push({ ...l, ok: true, message: r.message, id: r.id })
          } catch (err) {
            const fields = err instanceof ApiError ? Object.entries(err.fields) : []
            out.push({ ...l, ok: false, message: fields.length ? fields.map(([f, m]) => `${f}: ${m}`).join('; ') : (err as Error).message })
          }
          setResults([...out].sort((a, b) => a.line - b.line))
        }
      }),
    )
    setBusy(false)
    void qc.invalidateQueries({ queryKey: ['targets'] })
  }

  const failed = results.filter((r) => !r.ok).length
  return (
    <section className="card" aria-labelledby="import-title">
      <h2 id="import-title">Import targets</h2>
      <form onSubmit={submit}>
        <Field label="One target per line: address, name, tags">
          {(control) => (
            <textarea
              {...control}
              rows={8}
              className="mono"
              placeholder={'192.0.2.10, edge-1, core paris\n2001:db8::20, edge-2\n# comment lines are skipped'}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          )}
        </Field>
        <label className="inline">
          Interval (s) <input type="number" min={1} max={3600} value={frequency} onChange={(e) => setFrequency(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={busy || !isAdmin || !text.trim()}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </form>
      {results.length > 0 && (
        <div role="status">
          <p>
            {results.length - failed} added, {failed} refused
          </p>
          <ul className="import-results">
            {results.map((r) => (
              <li key={r.line} className={r.ok ? 'ok' : 'error-text'}>
                line {r.line} <code>{r.text}</code>: {r.ok && r.id ? <Link to={`/target/${r.id}`}>{r.message}</Link> : r.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  )
}

export function AddTargetsPage({ isAdmin }: { isAdmin: boolean }) {
  const qc = useQueryClient()
  const [added, setAdded] = useState<StatusMessage | null>(null)
  return (
    <section className="page" aria-labelledby="add-title">
      <h1 id="add-title">Add targets</h1>
      {!isAdmin && <p className="notice">Only admins can add targets; you can look at everything.</p>}
      <section className="card" aria-labelledby="add-one-title">
        <h2 id="add-one-title">Add a target</h2>
        {added && (
          <p className="success" role="status">
            {added.message}. <Link to={`/target/${added.id}`}>Open it</Link>
          </p>
        )}
        <TargetForm
          submitLabel="Add target"
          onSubmit={async (body) => {
            setAdded(null)
            const r = await createTarget(body as TargetInput)
            setAdded(r)
            void qc.invalidateQueries({ queryKey: ['targets'] })
          }}
        />
      </section>
      <ImportTargets isAdmin={isAdmin} />
    </section>
  )
}
