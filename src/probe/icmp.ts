import { randomInt } from 'node:crypto'
import { createRequire } from 'node:module'
import { isIP, isIPv6 } from 'node:net'

// The ICMP echo adapter over net-ping (raw sockets; one session per address family and process).
//
// Timing: net-ping stamps requests with Dates (1 ms resolution: 95 % of loopback RTTs read 0 ms), and
// timing pingHost() from outside measures its send queue (p50 37 ms at 1,000 in flight for a true
// ~0.02 ms). So the high-resolution clock is read where net-ping hands the packet to the socket and where
// the reply comes off it: 10–17 µs loopback RTTs, stable at 1,000 in flight.
//
// Matching: net-ping matches replies by (identifier = sessionId, sequence) only; its default sessionId is
// the pid, so two sessions in one process cross-match (a silent host was "up" 2,000 times of 2,000).
// Each session gets its own random identifier.

const require = createRequire(import.meta.url)
const ping = require('net-ping') as NetPing

type HrDate = Date & { hr?: bigint }
interface NetPingRequest {
  id: number
  sent?: HrDate
}
interface NetPingSession {
  timeout: number
  reqsPending: number
  rxHr?: bigint
  rxTtl?: number | null
  pingHost(target: string, cb: (err: (Error & { source?: string }) | null, target: string, sent?: HrDate) => void): void
  close(): void
}
interface NetPing {
  createSession(opts: Record<string, unknown>): NetPingSession
  NetworkProtocol: { IPv4: number; IPv6: number }
  Session: { prototype: Record<string, (...args: unknown[]) => unknown> }
}

export const EchoStatus = { ok: 0, timeout: 1, unreachable: 2, error: 3 } as const
export type EchoStatusCode = (typeof EchoStatus)[keyof typeof EchoStatus]

export interface EchoResult {
  /** Microseconds, null when no reply. */
  rttUs: number | null
  /** TTL of the reply's IP header (IPv4 only: IPv6 raw sockets do not pass the header up). */
  ttl: number | null
  status: EchoStatusCode
  /** The router that reported the destination unreachable. */
  reporter: string | null
  error?: string
}

export interface Pinger {
  echo(address: string, timeoutMs: number): Promise<EchoResult>
  inFlight(): number
  close(): void
}

export class IcmpPermissionError extends Error {
  constructor() {
    super(
      'ICMP needs raw sockets (CAP_NET_RAW): run as root, or grant the capability — ' +
        'an ambient capability (systemd AmbientCapabilities=CAP_NET_RAW, or setpriv --ambient-caps=+net_raw), ' +
        "`setcap cap_net_raw+ep` on a dedicated copy of the node binary, or docker-compose's `cap_add: [NET_RAW]`",
    )
    this.name = 'IcmpPermissionError'
  }
}

let patched = false
function patchTiming() {
  if (patched) return
  patched = true
  const proto = ping.Session.prototype
  const send = proto.onSocketSend!
  const message = proto.onSocketMessage!
  proto.onSocketSend = function (this: NetPingSession, req: unknown, ...rest: unknown[]) {
    const r = req as NetPingRequest
    if (!r.sent) {
      // net-ping keeps the first `sent` it sees and hands it back to the callback.
      const d: HrDate = new Date()
      d.hr = process.hrtime.bigint()
      r.sent = d
    }
    return send.call(this, req, ...rest)
  }
  proto.onSocketMessage = function (this: NetPingSession & { addressFamily: number }, buffer: unknown, source: unknown) {
    this.rxHr = process.hrtime.bigint()
    const b = buffer as Buffer
    // IPv4 raw sockets deliver the IP header: TTL is byte 8.
    this.rxTtl = b.length >= 20 && (b[0]! & 0xf0) === 0x40 ? b[8]! : null
    return message.call(this, buffer, source)
  }
}

/** Creates the process's ICMP sessions; throws IcmpPermissionError without CAP_NET_RAW. */
export function createIcmpPinger(): Pinger {
  patchTiming()
  const sessions = new Map<4 | 6, NetPingSession>()
  const used = new Set<number>()
  function session(family: 4 | 6): NetPingSession {
    let s = sessions.get(family)
    if (s) return s
    let id = randomInt(1, 65536)
    while (used.has(id)) id = randomInt(1, 65536)
    used.add(id)
    try {
      s = ping.createSession({
        sessionId: id,
        retries: 0, // a round's loss is what we measure: never re-send behind the caller's back
        timeout: 1000,
        packetSize: 16,
        networkProtocol: family === 6 ? ping.NetworkProtocol.IPv6 : ping.NetworkProtocol.IPv4,
      })
    } catch (err) {
      if (/not permitted|EPERM|EACCES/i.test(String((err as Error).message))) throw new IcmpPermissionError()
      throw err
    }
    sessions.set(family, s)
    return s
  }
  // Open the IPv4 session now so a missing capability is reported at start, not at the first probe.
  session(4)

  return {
    echo(address, timeoutMs) {
      if (isIP(address) === 0) {
        return Promise.resolve({ rttUs: null, ttl: null, status: EchoStatus.error, reporter: null, error: `not an IP address: ${address}` })
      }
      const s = session(isIPv6(address) ? 6 : 4)
      return new Promise<EchoResult>((resolve) => {
        // pingHost copies the session timeout into the request synchronously: per-target timeouts.
        s.timeout = timeoutMs
        s.pingHost(address, (err, _target, sent) => {
          if (!err) {
            // The callback runs inside onSocketMessage, right after rxHr was taken for this reply.
            const rx = s.rxHr
            const rttUs = sent?.hr !== undefined && rx !== undefined ? Number((rx - sent.hr) / 1000n) : null
            resolve({ rttUs, ttl: s.rxTtl ?? null, status: EchoStatus.ok, reporter: null })
          } else if (err.name === 'RequestTimedOutError') {
            resolve({ rttUs: null, ttl: null, status: EchoStatus.timeout, reporter: null })
          } else if (err.name === 'DestinationUnreachableError') {
            resolve({ rttUs: null, ttl: null, status: EchoStatus.unreachable, reporter: err.source ?? null, error: err.message })
          } else {
            resolve({ rttUs: null, ttl: null, status: EchoStatus.error, reporter: err.source ?? null, error: err.message })
          }
        })
      })
    },
    inFlight() {
      let n = 0
      for (const s of sessions.values()) n += s.reqsPending
      return n
    },
    close() {
      for (const s of sessions.values()) s.close()
      sessions.clear()
    },
  }
}
