import { createHash } from 'node:crypto'
import { isIP } from 'node:net'

// Pure functions over the standard output of Modern traceroute for Linux (2.x), tested against captured
// output in test/fixtures/traceroute. The runner always passes -n (addresses only), but the `name (address)`
// form is read too.

export interface TracerouteHop {
  hop: number
  /** The name printed for the hop (the address itself with -n); null when no probe was answered. */
  host: string | null
  ip: string | null
  /** Round trip of the first answered probe, the one whose address is kept. */
  rttMs: number | null
  /** True only when no probe of the hop was answered (`*` for every probe). */
  isTimeout: boolean
  /**
   * Probes sent to the hop (`-q`: one answered time or `*` each) and the round trips of those answered.
   * Absent in runs stored before they were kept (read back as 1 probe: see traceroute.repo.ts).
   */
  sent: number
  rttsMs: number[]
  /** The line with surrounding whitespace removed, annotations (`!H`, `!X`...) and other addresses included. */
  raw: string
}

export interface ParsedTraceroute {
  /** The address from the header line (`traceroute to <name> (<address>), ...`), when there is one. */
  destination: string | null
  hops: TracerouteHop[]
}

const HEADER = /^traceroute(?:6)? to \S+ \(([^)]+)\)/
const HOP_LINE = /^\s*(\d+)\s+(.*)$/
const RTT = /^\d+(?:\.\d+)?$/

export function parseTraceroute(stdout: string): ParsedTraceroute {
  let destination: string | null = null
  const hops: TracerouteHop[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const header = HEADER.exec(line)
    if (header) {
      destination = header[1]!
      continue
    }
    const m = HOP_LINE.exec(line)
    if (!m) continue
    hops.push(parseHopProbes(Number(m[1]), m[2]!, line.trim()))
  }
  return { destination, hops }
}

/**
 * One hop line's probes: `*` (unanswered), `<address> <rtt> ms [!annotation]`, the address printed only when
 * it differs from the previous probe's, or `<name> (<address>) <rtt> ms` without -n.
 */
function parseHopProbes(hop: number, rest: string, raw: string): TracerouteHop {
  const tokens = rest.trim().split(/\s+/)
  let host: string | null = null
  let ip: string | null = null
  let first: { host: string; ip: string | null; rttMs: number } | null = null
  let sent = 0
  const rttsMs: number[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t === '*') {
      sent++
      continue
    }
    if (t.startsWith('!') || t.startsWith('[') || t.startsWith('<')) continue // annotation, -A, -e
    if (RTT.test(t) && tokens[i + 1] === 'ms') {
      sent++
      rttsMs.push(Number(t))
      if (host !== null && first === null) first = { host, ip, rttMs: Number(t) }
      i++
      continue
    }
    const paren = /^\(([^)]+)\)$/.exec(t)
    if (paren) {
      if (host !== null) ip = paren[1]!
      continue
    }
    host = t
    ip = isIP(t) ? t : null
  }
  if (first) return { hop, host: first.host, ip: first.ip, rttMs: first.rttMs, isTimeout: false, sent, rttsMs, raw }
  // An address without a time should not happen; keep it rather than call the hop a timeout.
  if (host !== null) return { hop, host, ip, rttMs: null, isTimeout: false, sent: Math.max(sent, 1), rttsMs, raw }
  return { hop, host: null, ip: null, rttMs: null, isTimeout: true, sent, rttsMs, raw }
}

export interface PathSummary {
  /** A hop answered from the destination (the header's address, or the target's own address). */
  reached: boolean
  /** The hop that reached the destination, or the last hop printed (0 when none). */
  hopCount: number
  /** The answering address of each hop up to hopCount, null for unanswered hops. */
  path: (string | null)[]
  /** sha256 of the answering addresses in order (unanswered hops left out): equal hashes, same path. */
  pathHash: string
}

export function summarisePath(parsed: ParsedTraceroute, targetAddress: string): PathSummary {
  const wanted = new Set([targetAddress.toLowerCase(), parsed.destination?.toLowerCase()].filter(Boolean))
  const at = parsed.hops.findIndex((h) => h.ip !== null && wanted.has(h.ip.toLowerCase()))
  const hops = at >= 0 ? parsed.hops.slice(0, at + 1) : parsed.hops
  const path = hops.map((h) => h.ip)
  return {
    reached: at >= 0,
    hopCount: hops.at(-1)?.hop ?? 0,
    path,
    pathHash: hashPath(path),
  }
}

export function hashPath(path: readonly (string | null)[]): string {
  const answering = path.filter((ip): ip is string => ip !== null).map((ip) => ip.toLowerCase())
  return createHash('sha256').update(answering.join(' ')).digest('hex')
}
