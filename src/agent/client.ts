import type { HeartbeatBody, HeartbeatOut, SamplesOut } from './agent.schema.js'

// The agent's HTTP client for the /probe/* routes: one probe token, a timeout per request, and errors
// that say whether trying again can help.

export class AgentHttpError extends Error {
  override name = 'AgentHttpError'
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${status} ${detail}`)
  }

  /**
   * The server will never take this request as it is (a malformed or oversized batch): retrying cannot
   * help. 401/403 are not among these: a token being fixed must not cost the buffered samples.
   */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && ![401, 403, 404, 408, 409, 425, 429].includes(this.status)
  }
}

export interface AgentClientOptions {
  /** https://host:6666 (a trailing slash is fine). */
  server: string
  token: string
  /** Per request (default 10 s). */
  timeoutMs?: number
  userAgent?: string
}

export function createAgentClient(opts: AgentClientOptions) {
  const base = opts.server.replace(/\/+$/, '')
  const timeoutMs = opts.timeoutMs ?? 10_000

  async function request<T>(route: string, body: string | Buffer, headers: Record<string, string> = {}, timeout = timeoutMs): Promise<T> {
    const res = await fetch(`${base}${route}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${opts.token}`,
        'content-type': 'application/json',
        ...(opts.userAgent ? { 'user-agent': opts.userAgent } : {}),
        ...headers,
      },
      body,
      signal: AbortSignal.timeout(timeout),
    })
    const text = await res.text()
    if (!res.ok) {
      let detail = text.slice(0, 500)
      try {
        const d = (JSON.parse(text) as { detail?: unknown }).detail
        detail = typeof d === 'string' ? d : JSON.stringify(d).slice(0, 500)
      } catch {
        // not JSON: keep the text
      }
      throw new AgentHttpError(res.status, detail)
    }
    return JSON.parse(text) as T
  }

  return {
    /** A heartbeat answered later than `timeout` is of no use: the leases it renews are measured from its send. */
    heartbeat: (body: HeartbeatBody, timeout = timeoutMs) => request<HeartbeatOut>('/probe/heartbeat', JSON.stringify(body), {}, timeout),
    /** Posts one batch as stored in the buffer (gzip'd JSON). */
    postBatch: (gzipped: Buffer) => request<SamplesOut>('/probe/samples', gzipped, { 'content-encoding': 'gzip' }),
    leave: (session: HeartbeatBody['session'], idleMs: number) =>
      request<{ message: string }>('/probe/leave', JSON.stringify({ session, idle_ms: Math.max(0, Math.min(60_000, Math.round(idleMs))) })),
  }
}

export type AgentClient = ReturnType<typeof createAgentClient>
