import { ErrorMessage } from '../../../components/field'
import { formatDateTime } from '../../../lib/format'
import { useEvents } from '../api/targets'

export function EventsList({ id, enabled = true }: { id: number; enabled?: boolean }) {
  const events = useEvents(id, enabled)
  return (
    <section className="card" aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <ErrorMessage error={events.error} />
      {events.data?.length === 0 && <p className="muted">No events.</p>}
      <ol className="events scroll-y">
        {events.data?.map((e) => (
          <li key={e.id} className={`event event-${e.event_type}`}>
            <time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time>
            <span className="event-type">{e.event_type.replace(/_/g, ' ')}</span>
            <span className="event-message">{e.message}</span>
            {e.actor && <span className="muted"> by {e.actor}</span>}
          </li>
        ))}
      </ol>
    </section>
  )
}
