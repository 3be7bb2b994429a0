import type { Sample } from '../../src/probe/writer.js'

const MIN = 60_000

/**
 * A 60 s target's history as the probe writes it: five echoes 200 ms apart every minute, 17 s past it,
 * for the last `minutes` minutes (none in the future). `reply(round, echo)` is the RTT in µs, or null
 * for a lost echo. Round 0 is the newest.
 */
export function minuteRounds(targetId: number, minutes: number, reply: (round: number, echo: number) => number | null): Sample[] {
  const now = Date.now()
  const out: Sample[] = []
  for (let k = 0; k < minutes; k++) {
    const start = Math.floor(now / MIN) * MIN - k * MIN + 17_000
    for (let e = 0; e < 5; e++) {
      const time = start + e * 200
      if (time >= now) continue
      const rttUs = reply(k, e)
      out.push({ time: new Date(time), targetId, seq: e, rttUs, ttl: rttUs === null ? null : 64, jitterUs: null, status: rttUs === null ? 1 : 0, reporter: null })
    }
  }
  return out
}
