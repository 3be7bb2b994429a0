import { describe, expect, it } from 'vitest'
import { type AlertState, type Hysteresis, INITIAL_STATE, type Transition, observe } from '../../src/alerts/hysteresis.js'

const S = 1000
const MIN = 60 * S

/** Feeds one observation every `everyMs` from a pattern of met/not met, returning the transitions. */
function run(pattern: (t: number) => boolean | null, untilMs: number, everyMs: number, h: Hysteresis, value = (t: number) => t / S) {
  let state: AlertState = INITIAL_STATE
  const out: Transition[] = []
  for (let t = 0; t <= untilMs; t += everyMs) {
    const r = observe(state, { at: t, met: pattern(t), value: value(t) }, h)
    state = r.state
    if (r.transition) out.push(r.transition)
  }
  return { out, state }
}

describe('alert hysteresis', () => {
  const h = { forMs: 2 * MIN, recoverMs: 3 * MIN }

  it('fires once the condition has held for `for`, dated from when it began, and resolves after `recover`', () => {
    // Met from 1 min to 10 min.
    const { out, state } = run((t) => t >= MIN && t < 10 * MIN, 20 * MIN, 10 * S, h)
    expect(out).toEqual([
      { kind: 'fire', startedAt: MIN, at: 3 * MIN, value: 180 },
      { kind: 'resolve', startedAt: MIN, at: 10 * MIN, peak: 590 },
    ])
    expect(state.phase).toBe('ok')
  })

  it('never fires for a link that flaps faster than `for`', () => {
    // Down 20 s, up 20 s, for an hour.
    const { out } = run((t) => Math.floor(t / (20 * S)) % 2 === 0, 60 * MIN, 5 * S, h)
    expect(out).toEqual([])
  })

  it('keeps one incident open through short recoveries shorter than `recover`', () => {
    // Met 0–5 min, clear 5–6 min, met 6–9 min, then clear.
    const met = (t: number) => (t < 5 * MIN) || (t >= 6 * MIN && t < 9 * MIN)
    const { out } = run(met, 20 * MIN, 10 * S, h)
    expect(out.map((x) => x.kind)).toEqual(['fire', 'resolve'])
    expect(out[1]).toMatchObject({ startedAt: 0, at: 9 * MIN })
  })

  it('fires and resolves at once with zero hysteresis, and ignores observations without data', () => {
    const zero = { forMs: 0, recoverMs: 0 }
    const met = (t: number) => (t >= 30 * S && t < 50 * S ? null : t >= 10 * S && t < 60 * S)
    const { out } = run(met, 2 * MIN, 10 * S, zero)
    expect(out).toEqual([
      { kind: 'fire', startedAt: 10 * S, at: 10 * S, value: 10 },
      { kind: 'resolve', startedAt: 10 * S, at: 60 * S, peak: 50 },
    ])
  })
})
