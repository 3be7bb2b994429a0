// Mean Opinion Score estimated from ping statistics: the simplified ITU-T G.107 E-model that network
// monitors (PingPlotter, many VoIP-readiness tools) use, where the transmission rating R starts at 93.2
// and loses points for delay, jitter and loss:
//
//   effective latency  L = mean RTT + 2 × mean jitter + 10 ms          (10 ms: codec delay)
//   R = 93.2 − L / 40              if L < 160 ms
//   R = 93.2 − (L − 120) / 10      otherwise
//   R = R − 2.5 × loss %           (then clamped to 0…100)
//   MOS = 1 + 0.035 R + 7·10⁻⁶ R (R − 60)(100 − R)                        (G.107 Annex B)
//
// So 4.4 is the best a perfect link scores, ~3.6 is "some users dissatisfied", below 3.1 most are.
// It uses the round-trip time as measured (the usual monitor practice), not a one-way delay, so it
// errs on the pessimistic side; treat it as an indicator for voice, not a measurement.

export interface MosInput {
  latencyMs: number | null
  jitterMs: number | null
  lossPercent: number
}

/** The estimated MOS (1.0–4.5, two decimals); 1.0 when nothing came back. */
export function meanOpinionScore({ latencyMs, jitterMs, lossPercent }: MosInput): number {
  if (latencyMs === null) return 1
  const effective = latencyMs + 2 * (jitterMs ?? 0) + 10
  let r = effective < 160 ? 93.2 - effective / 40 : 93.2 - (effective - 120) / 10
  r = Math.min(100, Math.max(0, r - 2.5 * lossPercent))
  const mos = 1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r)
  return Math.round(Math.min(4.5, Math.max(1, mos)) * 100) / 100
}
