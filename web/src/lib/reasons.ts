// Short human reasons for the raw failure texts the API passes through (a traceroute's own stderr line).
// Unknown texts are shown as they are: a raw reason beats a wrong one.

const TRACEROUTE_REASONS: [RegExp, string][] = [
  [/not found on host|binary not found/i, 'traceroute is not installed on the server (apt-get install traceroute)'],
  [/timed out/i, 'no answer before the time limit: the path may be filtered or very long'],
  [/too many traceroutes/i, 'the server is already running its maximum of traceroutes: try again in a moment'],
  [/cancelled/i, 'the server is shutting down'],
  [/network is unreachable|no route to host|enetunreach|ehostunreach/i, 'the server has no route to this address'],
  [/operation not permitted|permission denied|eperm|eacces/i, 'the server is not allowed to send traceroute probes (needs CAP_NET_RAW or root)'],
  [/unknown host|name or service not known|cannot handle "host"/i, 'the address could not be resolved'],
  [/could not start/i, 'traceroute could not be started on the server'],
]

/** A traceroute failure (503 detail) as a short reason, with the raw text kept for the curious. */
export function tracerouteReason(detail: string): { reason: string; raw: string | null } {
  const hit = TRACEROUTE_REASONS.find(([re]) => re.test(detail))
  return hit ? { reason: hit[1], raw: hit[1] === detail ? null : detail } : { reason: detail, raw: null }
}

/** A sample's status (GET /targets/{id}/logs) in words, with what it means for the curious. */
export const SAMPLE_STATUS_TEXT: Record<string, { label: string; title: string }> = {
  ok: { label: 'reply', title: 'An echo reply came back' },
  timeout: { label: 'no reply', title: 'No echo reply before the target’s timeout' },
  unreachable: { label: 'unreachable', title: 'A router answered that the address cannot be reached (ICMP destination unreachable)' },
  error: { label: 'send error', title: 'The echo request could not be sent from this host (no route, or the socket refused it)' },
}
