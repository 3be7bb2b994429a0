import type { Sample } from '../probe/writer.js'
import { createPrng } from '../lib/prng.js'

// Synthetic measurements: one deterministic PRNG stream per target, consumed round by round, so the
// rows depend on (seed, target index, end) only, never on how the range is split into windows.

export const SEED_TAG = 'seed'
export const SEED_NOTE = 'synthetic history (never probed)'

export const MIN_MS = 60_000
export const HOUR_MS = 60 * MIN_MS
export const DAY_MS = 24 * HOUR_MS

/** The documentation networks seeded targets use (RFC 5737, RFC 3849): never routed, never probed. */
export const SEED_NETWORKS = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'] as const

/** Documentation addresses (SEED_NETWORKS), round-robin over the four blocks, then IPv6 only. */
export function seedAddress(i: number): string {
  const k = Math.floor(i / 4)
  if (k < 254) {
    const block = i % 4
    if (block < 3) return `${SEED_NETWORKS[block]!.replace(/\.0\/24$/, '')}.${k + 1}`
    return `2001:db8::${(k + 1).toString(16)}`
  }
  return `2001:db8::1:${(i - 4 * 254).toString(16)}`
}

const fnv = (h: number, v: number) => Math.imul(h ^ (v >>> 0), 16777619)

// Mean time between incidents per target, and their durations.
const OUTAGE_EVERY_S = 8 * 86_400
const CONGESTION_EVERY_S = 2 * 86_400
const ROUTE_CHANGE_EVERY_S = 12 * 86_400

export interface GeneratorOptions {
  intervalS: number
  packets: number
  loss: number
  spacingMs: number
  endMs: number
}

export function createTargetHistory(seed: number, index: number, targetId: number, o: GeneratorOptions) {
  const rand = createPrng(fnv(fnv(0x811c9dc5, seed), index))
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const logUniform = (lo: number, hi: number) => lo * (hi / lo) ** rand()
  const hazard = (everyS: number) => 1 - Math.exp(-o.intervalS / everyS)

  const intervalMs = o.intervalS * 1000
  const phaseMs = Math.floor(rand() * intervalMs)
  let baseUs = logUniform(1_000, 150_000)
  let hops = 3 + Math.floor(rand() * 22)
  const diurnal = 0.02 + rand() * 0.13 // busy-hour latency rise, as a share of the baseline
  const peakHourUtc = rand() * 24
  const noiseUs = 20 + baseUs * (0.005 + rand() * 0.04) // median queueing delay, log-normal
  const noiseSigma = 0.4 + rand() * 0.6
  const pOutage = hazard(OUTAGE_EVERY_S)
  const pCongestion = hazard(CONGESTION_EVERY_S)
  const pRoute = hazard(ROUTE_CHANGE_EVERY_S)
  // The probe engine's gap between the echoes of a round.
  const gapMs = Math.min(o.spacingMs, Math.floor(intervalMs / o.packets / 2))
  const lastRoundMs = o.endMs - (o.packets - 1) * gapMs - 10

  let next = 0
  let outageUntil = 0
  let congestionUntil = 0
  let congestionUs = 0
  let congestionLoss = 0
  let prevRtt: number | null = null
  const stats = { echoes: 0, lost: 0, outages: 0, congestion: 0, routeChanges: 0, hash: 0x811c9dc5 }

  function round(t: number, out: Sample[]) {
    if (t >= outageUntil && rand() < pOutage) {
      outageUntil = t + logUniform(3 * MIN_MS, HOUR_MS)
      stats.outages++
    }
    if (t >= congestionUntil && rand() < pCongestion) {
      congestionUntil = t + logUniform(10 * MIN_MS, 3 * HOUR_MS)
      congestionUs = baseUs * logUniform(0.2, 3)
      congestionLoss = logUniform(0.01, 0.25)
      stats.congestion++
    }
    if (rand() < pRoute) {
      baseUs = Math.min(200_000, Math.max(800, baseUs * Math.exp((rand() - 0.5) * 0.6)))
      hops = Math.min(40, Math.max(2, hops + (rand() < 0.5 ? -1 : 1) * (1 + Math.floor(rand() * 3))))
      stats.routeChanges++
    }
    const down = t < outageUntil
    const congested = t < congestionUntil
    const hourUtc = (t % DAY_MS) / HOUR_MS
    const level = baseUs * (1 + diurnal * Math.sin((2 * Math.PI * (hourUtc - peakHourUtc + 6)) / 24))
    const lossP = o.loss + (congested ? congestionLoss : 0)
    let time = t + Math.floor(rand() * 4) // scheduling lag
    for (let seq = 0; seq < o.packets; seq++) {
      if (seq > 0) time += gapMs + Math.floor(rand() * 2)
      let rttUs: number | null = null
      if (!down && rand() >= lossP) {
        let rtt = level + noiseUs * Math.exp(noiseSigma * gauss())
        if (congested) rtt += congestionUs * (0.5 + rand())
        if (rand() < 0.002) rtt += baseUs * (1 + 4 * rand()) // lone spike: ICMP handled late by a router
        rttUs = Math.max(30, Math.round(rtt))
      }
      const s: Sample = {
        time: new Date(time),
        targetId,
        seq,
        rttUs,
        ttl: rttUs === null ? null : 64 - hops,
        jitterUs: rttUs === null || prevRtt === null ? null : Math.abs(rttUs - prevRtt),
        status: rttUs === null ? 1 : 0,
        reporter: null,
      }
      if (rttUs !== null) prevRtt = rttUs
      else stats.lost++
      stats.echoes++
      let h = fnv(fnv(stats.hash, time), time / 4294967296)
      h = fnv(fnv(fnv(h, seq), rttUs ?? -1), s.ttl ?? -1)
      stats.hash = h
      out.push(s)
    }
  }

  return {
    start(fromMs: number) {
      next = Math.ceil((fromMs - phaseMs) / intervalMs) * intervalMs + phaseMs
    },
    /** Appends whole rounds before `untilMs` while `out` has room; true once the window is done. */
    fill(out: Sample[], limit: number, untilMs: number): boolean {
      const stop = Math.min(untilMs, lastRoundMs)
      while (next < stop) {
        if (out.length + o.packets > limit) return false
        round(next, out)
        next += intervalMs
      }
      return true
    },
    stats: () => ({ ...stats, checksum: (stats.hash >>> 0).toString(16).padStart(8, '0') }),
  }
}
