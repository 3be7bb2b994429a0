import type { EventRow } from '../events/events.repo.js'
import type { EventOut } from '../events/events.schema.js'
import { estimateHops } from './hops.js'
import { type LogOut, SAMPLE_STATUSES } from './samples.schema.js'
import type { SampleRow } from './samples.repo.js'

// The JSON of a sample and of an event, as the API and the CLI's --json print them.

export function logJson(s: SampleRow): LogOut {
  return {
    time: s.time.toISOString(),
    latency_ms: s.rttUs === null ? null : s.rttUs / 1000,
    hops: estimateHops(s.ttl),
    packet_loss: s.rttUs === null,
    rtt_us: s.rttUs,
    ttl: s.ttl,
    seq: s.seq,
    status: SAMPLE_STATUSES[s.status] ?? 'error',
  }
}

export function eventJson(e: EventRow): EventOut {
  return {
    id: Number(e.id),
    target_id: e.targetId,
    event_type: e.type,
    message: e.message,
    actor: e.actor,
    data: e.data ?? null,
    created_at: e.createdAt.toISOString(),
  }
}
