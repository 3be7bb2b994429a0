import type { Queryable } from '../db/open.js'
import { SEVERITIES, type Severity } from './alerts.schema.js'

// Alerting's figures for /health and /metrics, database-wide (every evaluator and sender on it): the
// open incidents by severity, and the notifications still to deliver with the age of the oldest.

export interface AlertFigures {
  open: Record<Severity, number>
  queued: number
  /** Seconds since the oldest undelivered notification was queued; null when none waits. */
  oldestQueuedS: number | null
}

export async function alertFigures(sql: Queryable): Promise<AlertFigures> {
  const [bySeverity, [queue]] = await Promise.all([
    sql<{ severity: Severity; n: number }[]>`select severity, count(*)::int as n from incidents where ended_at is null group by severity`,
    sql<{ queued: number; oldestS: number | null }[]>`
      select count(*)::int as queued, extract(epoch from now() - min(created_at))::float8 as oldest_s
      from notification_outbox where delivered_at is null and failed_at is null`,
  ])
  const open = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>
  for (const r of bySeverity) open[r.severity] = r.n
  return { open, queued: queue?.queued ?? 0, oldestQueuedS: queue?.oldestS === null || queue?.oldestS === undefined ? null : Math.max(0, queue.oldestS) }
}
