import { createHmac } from 'node:crypto'
import type { AlertCondition, Severity } from './alerts.schema.js'

// What a notification says, pure: the item the evaluator stores in the outbox for one transition of
// one incident, the bodies the sender composes from a batch of items (webhook JSON, Slack text, email),
// the webhook signature, the retry backoff and the grouping of a channel's queue into batches.

/** One transition of one incident, as stored in the outbox and sent in the webhook's `items`. */
export interface NotificationItem {
  dedupe_key: string
  transition: 'fire' | 'resolve'
  incident_id: number
  severity: Severity
  rule: { id: number; name: string; condition: AlertCondition; threshold: number | null; window_s: number; unit: string }
  target: { id: number; address: string; name: string | null; tags: string[] }
  /** When the condition began to hold; when it stopped (resolve only). */
  started_at: string
  ended_at: string | null
  /** fire: the value that fired it; resolve: null. */
  value: number | null
  /** The worst value while the incident was open (so far, on fire). */
  peak: number | null
  /** When the transition was observed. */
  at: string
  text: string
}

/** The webhook body (API_GUIDE.md, "Webhook payload"); `version` changes only with an incompatible change. */
export interface WebhookBody {
  version: 1
  source: 'pingscope'
  channel: { id: number; name: string }
  sent_at: string
  summary: string
  items: NotificationItem[]
}

export const UNITS: Record<AlertCondition, string> = {
  outage: 's',
  loss: '%',
  latency_p95: 'ms',
  latency_p50: 'ms',
  path_change: 'changes',
  probe_missing: 's',
}

const LABELS: Record<AlertCondition, string> = {
  outage: 'outage',
  loss: 'loss',
  latency_p95: 'p95 latency',
  latency_p50: 'p50 latency',
  path_change: 'path changes',
  probe_missing: 'no live probe',
}

/** A figure with its unit: 20.0 %, 12.41 ms, 75 s, 2 changes. */
export function formatValue(condition: AlertCondition, v: number | null): string {
  if (v === null) return 'n/a'
  if (condition === 'outage' || condition === 'probe_missing') return `${Math.round(v)} s`
  if (condition === 'path_change') return `${Math.round(v)} change${Math.round(v) === 1 ? '' : 's'}`
  if (condition === 'loss') return `${v.toFixed(1)} %`
  return `${v.toFixed(2)} ms`
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

/** The one-line text of an item: what a person reads in Slack or an email. */
export function describeItem(i: Omit<NotificationItem, 'text'>): string {
  const who = i.target.name ? `${i.target.name} (${i.target.address})` : i.target.address
  const c = i.rule.condition
  const limit = c === 'outage' || c === 'probe_missing' ? '' : ` ≥ ${formatValue(c, i.rule.threshold)} over ${formatDuration(i.rule.window_s * 1000)}`
  const rule = `rule "${i.rule.name}"`
  if (i.transition === 'fire') {
    const what =
      c === 'outage'
        ? `outage for ${formatValue(c, i.value)}`
        : c === 'probe_missing'
          ? `no live probe${i.value === null ? '' : ` for ${formatValue(c, i.value)}`}`
          : c === 'path_change'
            ? `path changed ${formatValue(c, i.value)}${limit}`
            : `${LABELS[c]} ${formatValue(c, i.value)}${limit}`
    return `FIRING [${i.severity}] ${who}: ${what} (${rule})`
  }
  const lasted = i.ended_at ? ` after ${formatDuration(Date.parse(i.ended_at) - Date.parse(i.started_at))}` : ''
  const what =
    c === 'outage'
      ? `outage over${lasted}`
      : c === 'probe_missing'
        ? `probed again${lasted}`
        : c === 'path_change'
          ? `path stable for ${formatDuration(i.rule.window_s * 1000)}${lasted}`
          : `${LABELS[c]} back under ${formatValue(c, i.rule.threshold)}${lasted}`
  return `RESOLVED [${i.severity}] ${who}: ${what}, peak ${formatValue(c, i.peak)} (${rule})`
}

/** "2 firing, 1 resolved". */
export function summarize(items: readonly NotificationItem[]): string {
  const fire = items.filter((i) => i.transition === 'fire').length
  const resolve = items.length - fire
  return [fire ? `${fire} firing` : '', resolve ? `${resolve} resolved` : ''].filter(Boolean).join(', ')
}

export function webhookBody(channel: { id: number; name: string }, items: NotificationItem[], sentAt: Date): WebhookBody {
  return { version: 1, source: 'pingscope', channel: { id: channel.id, name: channel.name }, sent_at: sentAt.toISOString(), summary: summarize(items), items }
}

export function slackBody(items: readonly NotificationItem[]): { text: string } {
  return { text: [`*pingscope*: ${summarize(items)}`, ...items.map((i) => `• ${i.text}`)].join('\n') }
}

export function emailMessage(items: readonly NotificationItem[]): { subject: string; text: string } {
  const first = items[0]
  const subject = items.length === 1 && first ? `[pingscope] ${first.text}` : `[pingscope] ${summarize(items)}`
  const lines = items.map((i) => `- ${i.text}\n  incident ${i.incident_id}, started ${i.started_at}${i.ended_at ? `, ended ${i.ended_at}` : ''}`)
  return { subject: subject.slice(0, 250), text: `${summarize(items)}\n\n${lines.join('\n')}\n\n-- \npingscope\n` }
}

/** The `X-Pingscope-Signature` value: `sha256=` and the hex HMAC-SHA256 of the raw body under the secret. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export interface Backoff {
  baseMs: number
  capMs: number
}

/** The wait before the next attempt after `failures` failed ones (≥ 1): base · 2^(failures−1), capped. */
export function backoffMs(failures: number, b: Backoff): number {
  return Math.min(b.capMs, b.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)))
}

/**
 * The next batch of a channel's queue (rows in queue order): the oldest row and the rows after it that
 * were created within `windowMs` of it, at most `max`. A prefix, so the channel's order holds.
 */
export function groupBatch<T extends { createdAt: Date }>(rows: readonly T[], windowMs: number, max: number): T[] {
  const first = rows[0]
  if (!first) return []
  const until = first.createdAt.getTime() + windowMs
  const out: T[] = []
  for (const r of rows) {
    if (out.length >= max || r.createdAt.getTime() >= until) break
    out.push(r)
  }
  return out
}
