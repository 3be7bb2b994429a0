import { type FormEvent, useState } from 'react'
import { ErrorMessage, Field } from '../../../components/field'
import { formatDateTime } from '../../../lib/format'
import { Link } from '../../../lib/router'
import { useTimeZone } from '../../../lib/time-zone'
import { useTargets } from '../../fleet/api/fleet'
import { type SilenceInput, useCreateSilence, useDeleteSilence, useEndSilence, useSilences } from '../api/alerts'
import { fieldErrors, fromLocalInput, parseDuration, unshown } from '../form-fields'
import type { Confirm } from './confirm'

// Silences (maintenance windows): a target or a tag, from (default now) until a time or for a
// duration, with a reason. While one covers a target its incidents are recorded and their
// notifications held. Admins create, end (now) and delete them.

interface Values {
  scope: 'target' | 'tag'
  target_id: string
  tag: string
  from: string
  until: string
  duration: string
  reason: string
}
const EMPTY: Values = { scope: 'target', target_id: '', tag: '', from: '', until: '', duration: '2h', reason: '' }

function SilenceForm() {
  const create = useCreateSilence()
  const targets = useTargets()
  const zone = useTimeZone()
  const [v, setV] = useState<Values>(EMPTY)
  const [durationError, setDurationError] = useState<string | null>(null)
  const { fields, rest } = fieldErrors(create.error)
  const set = (k: keyof Values) => (e: { target: { value: string } }) => setV((old) => ({ ...old, [k]: e.target.value }))

  function submit(e: FormEvent) {
    e.preventDefault()
    setDurationError(null)
    const startsAt = fromLocalInput(v.from)
    let endsAt = fromLocalInput(v.until)
    if (!endsAt && v.duration.trim()) {
      const s = parseDuration(v.duration)
      if (s === null || s <= 0) return setDurationError('a duration such as 30m, 2h or 1d')
      endsAt = new Date((startsAt ? new Date(startsAt).getTime() : Date.now()) + s * 1000).toISOString()
    }
    const body: SilenceInput = {
      ...(v.scope === 'target' ? { target_id: Number(v.target_id) || null } : { tag: v.tag.trim() || null }),
      ...(startsAt ? { starts_at: startsAt } : {}),
      ends_at: endsAt ?? '',
      reason: v.reason,
    }
    create.mutate(body, { onSuccess: () => setV(EMPTY) })
  }

  const zoneLabel = zone === 'utc' ? 'UTC' : 'local time'
  return (
    <form className="inline-form" onSubmit={submit} noValidate aria-label="New silence">
      <h3>New silence</h3>
      <Field label="Silence" error={fields.scope}>
        {(c) => (
          <select {...c} value={v.scope} onChange={set('scope')}>
            <option value="target">a target</option>
            <option value="tag">a tag</option>
          </select>
        )}
      </Field>
      {v.scope === 'target' ? (
        <Field label="Target" error={fields.target_id}>
          {(c) => (
            <select {...c} value={v.target_id} onChange={set('target_id')}>
              <option value="">choose a target</option>
              {targets.data?.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name ? `${t.name} (${t.ip})` : t.ip}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : (
        <Field label="Tag" name="tag" value={v.tag} onChange={set('tag')} error={fields.tag} autoComplete="off" />
      )}
      <Field label={`From (${zoneLabel})`} type="datetime-local" value={v.from} onChange={set('from')} error={fields.starts_at} hint="empty: now" />
      <Field label={`Until (${zoneLabel})`} type="datetime-local" value={v.until} onChange={set('until')} error={fields.ends_at} />
      <Field label="or for" value={v.duration} onChange={set('duration')} error={durationError ?? undefined} hint="30m, 2h, 1d" disabled={v.until !== ''} />
      <Field label="Reason" name="reason" value={v.reason} onChange={set('reason')} error={fields.reason} />
      <button type="submit" className="primary" disabled={create.isPending}>
        Create silence
      </button>
      <ErrorMessage error={rest} />
      <ErrorMessage error={unshown(fields, ['scope', 'target_id', 'tag', 'starts_at', 'ends_at', 'reason'])} />
    </form>
  )
}

export function SilencesSection({ isAdmin, confirm }: { isAdmin: boolean; confirm: Confirm }) {
  const silences = useSilences()
  const targets = useTargets()
  const end = useEndSilence()
  const remove = useDeleteSilence()
  const targetName = (id: number) => {
    const t = targets.data?.find((x) => x.id === id)
    return t ? (t.name ?? t.ip) : `target ${id}`
  }
  return (
    <section className="card" aria-labelledby="silences-title">
      <h2 id="silences-title">Silences</h2>
      <p className="muted">While a silence covers a target, its incidents are recorded and their notifications held.</p>
      <ErrorMessage error={silences.error ?? end.error ?? remove.error} />
      {silences.data?.length === 0 && <p className="empty">No active or upcoming silences.</p>}
      {silences.data && silences.data.length > 0 && (
        <table className="data-table" aria-label="Silences">
          <thead>
            <tr>
              <th scope="col">Silences</th>
              <th scope="col">From</th>
              <th scope="col">Until</th>
              <th scope="col">Reason</th>
              <th scope="col">By</th>
              {isAdmin && (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {silences.data.map((s) => (
              <tr key={s.id} data-silence-id={s.id}>
                <td>
                  {s.target_id !== null ? <Link to={`/target/${s.target_id}`}>{targetName(s.target_id)}</Link> : <span className="tag">{s.tag}</span>}{' '}
                  {s.active ? <span className="badge badge-warn">active</span> : <span className="badge">upcoming</span>}
                </td>
                <td>{formatDateTime(s.starts_at)}</td>
                <td>{formatDateTime(s.ends_at)}</td>
                <td>{s.reason}</td>
                <td>{s.created_by ?? '–'}</td>
                {isAdmin && (
                  <td className="row-actions">
                    {s.active && (
                      <button type="button" onClick={() => end.mutate(s.id)}>
                        End now
                      </button>
                    )}
                    <button
                      type="button"
                      className="danger"
                      onClick={() => confirm({ title: 'Delete this silence?', body: `${s.reason}: held notifications go out if their incidents are still open.`, label: 'Delete silence', run: () => remove.mutateAsync(s.id) })}
                    >
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isAdmin && <SilenceForm />}
    </section>
  )
}
