import { type FormEvent, useState } from 'react'
import { ErrorMessage, Field } from '../../../components/field'
import { formatDateTime, formatDuration } from '../../../lib/format'
import { formErrors } from '../../../lib/form-errors'
import { Link } from '../../../lib/router'
import { type ChannelOut, useChannels } from '../../alerts/api/alerts'
import { type IncidentDetail, type Notification, useAcknowledge, useAddNote, useIncident } from '../api/incidents'
import { END_REASONS, conditionLabel, formatValue, incidentWhen, targetLabel } from '../incident-format'
import { SeverityBadge } from './incident-table'

// One incident: what fired, its notes, and how each channel was told (delivered, queued with its
// attempts and last error, or given up). Admins acknowledge and add notes; viewers only read.

function deliveryState(n: Notification): { label: string; className: string } {
  if (n.delivered_at) return { label: `delivered ${formatDateTime(n.delivered_at)}`, className: 'delivery-ok' }
  if (n.failed_at) return { label: `gave up ${formatDateTime(n.failed_at)}`, className: 'delivery-failed' }
  return { label: `queued, next attempt ${formatDateTime(n.next_attempt_at)}`, className: 'delivery-queued' }
}

function Notifications({ items, channels }: { items: Notification[]; channels: ChannelOut[] | undefined }) {
  const name = (id: number) => channels?.find((c) => c.id === id)?.name ?? `channel ${id}`
  if (items.length === 0) return <p className="muted">No notifications: the rule has no channels, or it was muted or silenced.</p>
  return (
    <table className="data-table" aria-label="Notifications">
      <thead>
        <tr>
          <th scope="col">Channel</th>
          <th scope="col">Transition</th>
          <th scope="col">State</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last error</th>
        </tr>
      </thead>
      <tbody>
        {items.map((n) => {
          const s = deliveryState(n)
          return (
            <tr key={n.id} data-notification-id={n.id}>
              <td>{name(n.channel_id)}</td>
              <td>{n.transition}</td>
              <td className={s.className}>{s.label}</td>
              <td className="col-num">{n.attempts}</td>
              <td className={n.last_error ? 'error-text' : 'muted'}>{n.last_error ?? '–'}</td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

function NoteForm({ id }: { id: number }) {
  const add = useAddNote(id)
  const [text, setText] = useState('')
  const { fields, rest } = formErrors(add.error)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    add.mutate(text, { onSuccess: () => setText('') })
  }
  return (
    <form className="note-form" onSubmit={submit} noValidate>
      <Field label="New note" error={fields.text}>
        {(control) => <textarea {...control} name="text" rows={2} value={text} onChange={(e) => setText(e.target.value)} />}
      </Field>
      <ErrorMessage error={rest} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          Add note
        </button>
      </div>
    </form>
  )
}

function Facts({ i }: { i: IncidentDetail }) {
  const unit = i.unit
  const rows: [string, string][] = [
    ['Condition', `${conditionLabel(i.condition)}${i.threshold !== null ? ` ≥ ${formatValue(i.threshold, unit)}` : ''}`],
    ['When', incidentWhen(i)],
    ['Started', formatDateTime(i.started_at)],
    ['Fired', formatDateTime(i.fired_at)],
    ['Ended', i.ended_at ? `${formatDateTime(i.ended_at)} (${END_REASONS[i.end_reason ?? ''] ?? i.end_reason ?? ''})` : 'ongoing'],
    ['Duration', formatDuration(i.duration_s)],
    ['Peak', formatValue(i.peak, unit)],
    ['Notified', i.notified ? 'yes' : 'no (muted, silenced or no channels)'],
    ['Acknowledged', i.acknowledged_by ? `by ${i.acknowledged_by}, ${formatDateTime(i.acknowledged_at)}` : 'no'],
  ]
  return (
    <dl className="facts" data-testid="incident-facts">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  )
}

export function IncidentPage({ id, isAdmin }: { id: number; isAdmin: boolean }) {
  const incident = useIncident(id)
  const channels = useChannels()
  const ack = useAcknowledge(id)
  const i = incident.data
  if (!i) return <section className="page">{incident.error ? <ErrorMessage error={incident.error} /> : <p className="muted">Loading…</p>}</section>
  return (
    <section className="page incident-page" aria-labelledby="incident-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/incidents">Incidents</Link> / #{i.id}
      </nav>
      <div className="page-head">
        <h1 id="incident-title">
          <SeverityBadge severity={i.severity} /> {i.rule_name} on <Link to={`/target/${i.target_id}`}>{targetLabel(i)}</Link>
        </h1>
        {isAdmin && !i.acknowledged_by && (
          <button type="button" className="primary" disabled={ack.isPending} onClick={() => ack.mutate(undefined)}>
            Acknowledge
          </button>
        )}
      </div>
      <ErrorMessage error={ack.error ?? incident.error} />
      <div className="card">
        <Facts i={i} />
      </div>
      <section className="card" aria-labelledby="notes-title">
        <h2 id="notes-title">Notes</h2>
        {i.notes.length === 0 && <p className="muted">No notes.</p>}
        <ol className="notes-list">
          {i.notes.map((n, k) => (
            <li key={k}>
              <small className="muted">
                {formatDateTime(n.at)} · {n.by ?? 'someone'}
              </small>
              <p>{n.text}</p>
            </li>
          ))}
        </ol>
        {isAdmin && <NoteForm id={id} />}
      </section>
      <section className="card" aria-labelledby="notifications-title">
        <h2 id="notifications-title">Notifications</h2>
        <Notifications items={i.notifications} channels={channels.data} />
      </section>
    </section>
  )
}
