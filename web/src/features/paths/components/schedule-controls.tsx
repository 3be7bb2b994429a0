import { type FormEvent, useId, useState } from 'react'
import { ErrorMessage } from '../../../components/field'
import { formatInterval, formatTime } from '../../../lib/format'
import { type ScheduleOut, useScheduleChange } from '../api/paths'

// The schedule of the target's traceroutes: admins set it (off, every 1/5/15/60 min, probes per hop);
// everyone sees it and its last run, last error and next run.

const EVERY = [60, 300, 900, 3600]
const DEFAULT_QUERIES = 3

function ScheduleFacts({ s }: { s: ScheduleOut | null }) {
  if (!s) return <p className="muted">No scheduled traceroutes.</p>
  const due = Date.parse(s.next_run_at) <= Date.now()
  return (
    <dl className="schedule-facts" data-testid="schedule-facts">
      <div>
        <dt>Runs</dt>
        <dd>
          every {formatInterval(s.interval_s)}, {s.queries} probe{s.queries === 1 ? '' : 's'} per hop, up to {s.max_hops} hops
        </dd>
      </div>
      <div>
        <dt>Last run</dt>
        <dd>{s.last_run_at ? formatTime(s.last_run_at) : 'not yet'}</dd>
      </div>
      <div>
        <dt>Next run</dt>
        <dd>{due ? 'due now' : formatTime(s.next_run_at)}</dd>
      </div>
      {s.last_error && (
        <div className="error-text">
          <dt>Last error</dt>
          <dd>{s.last_error}</dd>
        </div>
      )}
    </dl>
  )
}

export function ScheduleControls({ targetId, schedule, isAdmin }: { targetId: number; schedule: ScheduleOut | null; isAdmin: boolean }) {
  const change = useScheduleChange(targetId)
  const id = useId()
  // The form shows the stored schedule until the admin changes a field.
  const [draft, setDraft] = useState<{ every: number; queries: number } | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  const every = draft?.every ?? schedule?.interval_s ?? 0
  const queries = draft?.queries ?? schedule?.queries ?? DEFAULT_QUERIES
  const options = schedule && !EVERY.includes(schedule.interval_s) ? [...EVERY, schedule.interval_s].sort((a, b) => a - b) : EVERY
  const unchanged = every === (schedule?.interval_s ?? 0) && (every === 0 || queries === schedule?.queries)

  function submit(e: FormEvent) {
    e.preventDefault()
    setSaved(null)
    const body = every === 0 ? null : { interval_s: every, queries, ...(schedule ? { max_hops: schedule.max_hops } : {}) }
    change.mutate(body, {
      onSuccess: () => {
        setDraft(null)
        setSaved(body ? 'Schedule saved' : 'Schedule removed')
      },
    })
  }

  return (
    <div className="path-schedule">
      <ScheduleFacts s={schedule} />
      {isAdmin && (
        <form className="inline-form schedule-form" onSubmit={submit} aria-label="Traceroute schedule">
          <div className="field-inline">
            <label htmlFor={`${id}-every`}>Schedule</label>
            <select id={`${id}-every`} value={every} onChange={(e) => setDraft({ every: Number(e.target.value), queries })}>
              <option value={0}>Off</option>
              {options.map((s) => (
                <option key={s} value={s}>
                  every {formatInterval(s)}
                </option>
              ))}
            </select>
          </div>
          <div className="field-inline">
            <label htmlFor={`${id}-queries`}>Probes per hop</label>
            <input
              id={`${id}-queries`}
              type="number"
              min={1}
              max={10}
              value={queries}
              disabled={every === 0}
              onChange={(e) => setDraft({ every, queries: Math.min(10, Math.max(1, Math.round(Number(e.target.value) || 1))) })}
            />
          </div>
          <button type="submit" disabled={change.isPending || unchanged}>
            {change.isPending ? 'Saving…' : 'Save schedule'}
          </button>
          {saved && (
            <span role="status" className="muted">
              {saved}
            </span>
          )}
        </form>
      )}
      <ErrorMessage error={change.error} />
    </div>
  )
}
