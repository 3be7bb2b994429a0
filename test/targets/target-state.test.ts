import { describe, expect, it } from 'vitest'
import { createLiveHub } from '../../src/live/hub.js'
import type { LiveEvent } from '../../src/live/live.types.js'
import { createStateWatch } from '../../src/live/state-watch.js'
import {
  DEGRADED_LOSS_PERCENT,
  LOSS_WINDOW_MINUTES,
  REPLY_WINDOW_MIN_S,
  type StateFacts,
  type TargetState,
  decideState,
  formatStateAge,
  replyWindowS,
} from '../../src/targets/target-state.js'

// The one definition of a target's state (src/targets/target-state.ts), without a database.

const NOW = new Date('2026-12-02T12:00:00.000Z')
const ago = (s: number) => new Date(NOW.getTime() - s * 1000)

/** A target probed every 10 s since two hours ago, answering every echo. */
const facts = (over: Partial<StateFacts> = {}): StateFacts => ({
  enabled: true,
  intervalS: 10,
  createdAt: ago(7200),
  pausedAt: null,
  resumedAt: null,
  openOutageAt: null,
  lastOutageEndAt: null,
  lastReplyAt: ago(5),
  windowSent: 360,
  windowReceived: 360,
  firstLossAt: null,
  ...over,
})

describe('decideState', () => {
  it('names its thresholds', () => {
    expect(DEGRADED_LOSS_PERCENT).toBe(1)
    expect(LOSS_WINDOW_MINUTES).toBe(60)
    expect(replyWindowS(1)).toBe(REPLY_WINDOW_MIN_S)
    expect(replyWindowS(60)).toBe(180)
  })

  it('is up while answering without loss, since its creation, last resume or last outage end', () => {
    expect(decideState(facts(), NOW)).toEqual({ state: 'up', since: ago(7200) })
    expect(decideState(facts({ resumedAt: ago(600) }), NOW)).toEqual({ state: 'up', since: ago(600) })
    expect(decideState(facts({ resumedAt: ago(600), lastOutageEndAt: ago(300) }), NOW)).toEqual({ state: 'up', since: ago(300) })
  })

  it('is degraded from 1 % loss over the window while answering, since the first lossy minute', () => {
    // 3 of 360 lost: 0.83 %, up; 4 of 360: 1.1 %, degraded.
    expect(decideState(facts({ windowReceived: 357, firstLossAt: ago(1800) }), NOW).state).toBe('up')
    expect(decideState(facts({ windowReceived: 356, firstLossAt: ago(1800) }), NOW)).toEqual({ state: 'degraded', since: ago(1800) })
    // Exactly the threshold counts.
    expect(decideState(facts({ windowSent: 100, windowReceived: 99, firstLossAt: ago(60) }), NOW).state).toBe('degraded')
    // 12 % loss with 30 outages in the hour, answering now: degraded, never up (issue 14), and since it came back.
    expect(decideState(facts({ windowSent: 720, windowReceived: 634, firstLossAt: ago(3540), lastOutageEndAt: ago(40) }), NOW)).toEqual({ state: 'degraded', since: ago(40) })
    // Without the first lossy minute, the window's start.
    expect(decideState(facts({ windowReceived: 300 }), NOW)).toEqual({ state: 'degraded', since: ago(LOSS_WINDOW_MINUTES * 60) })
  })

  it('is down while an outage is open, since the outage began, whatever the loss or the last reply', () => {
    expect(decideState(facts({ openOutageAt: ago(900), lastReplyAt: ago(2), windowReceived: 0 }), NOW)).toEqual({ state: 'down', since: ago(900) })
  })

  it('is paused when not probed, since the pause (or the creation of a target created paused), even with an open outage', () => {
    expect(decideState(facts({ enabled: false, pausedAt: ago(120), openOutageAt: ago(900) }), NOW)).toEqual({ state: 'paused', since: ago(120) })
    expect(decideState(facts({ enabled: false }), NOW)).toEqual({ state: 'paused', since: ago(7200) })
  })

  it('is unknown without a reply in the reply window, since that reply lapsed or since it was (re)started', () => {
    // never answered since its creation
    expect(decideState(facts({ lastReplyAt: null, windowSent: 0, windowReceived: 0 }), NOW)).toEqual({ state: 'unknown', since: ago(7200) })
    // 10 s interval: the window is 30 s; a reply 31 s ago lapsed 1 s ago
    expect(decideState(facts({ lastReplyAt: ago(31) }), NOW)).toEqual({ state: 'unknown', since: ago(1) })
    expect(decideState(facts({ lastReplyAt: ago(30) }), NOW).state).toBe('up')
    // resumed after its last reply
    expect(decideState(facts({ lastReplyAt: ago(3600), resumedAt: ago(20) }), NOW)).toEqual({ state: 'unknown', since: ago(20) })
  })

  it('gives every state for some facts, and a since never after now', () => {
    const seen = new Set<TargetState>()
    for (const enabled of [true, false])
      for (const openOutageAt of [null, ago(100)])
        for (const lastReplyAt of [null, ago(5), ago(100)])
          for (const windowReceived of [0, 300, 360]) {
            const v = decideState(facts({ enabled, openOutageAt, lastReplyAt, windowReceived }), NOW)
            seen.add(v.state)
            expect(v.since.getTime()).toBeLessThanOrEqual(NOW.getTime())
          }
    expect([...seen].sort()).toEqual(['degraded', 'down', 'paused', 'unknown', 'up'])
  })
})

describe('formatStateAge', () => {
  it('says how long in the largest units', () => {
    expect([0, 45_000, 60_000, 12 * 60_000, 3 * 3600_000, (3 * 60 + 12) * 60_000, 2 * 86400_000 + 4 * 3600_000, -5].map(formatStateAge)).toEqual([
      '0 s',
      '45 s',
      '1 min',
      '12 min',
      '3 h',
      '3 h 12 min',
      '2 d 4 h',
      '0 s',
    ])
  })
})

describe('state changes on the live stream', () => {
  it('reads states only while someone listens, and announces each change once as a targets event', async () => {
    const hub = createLiveHub({ flushMs: 60_000 })
    let reads = 0
    let states: { id: number; state: TargetState; since: Date }[] = [
      { id: 1, state: 'up', since: ago(60) },
      { id: 2, state: 'up', since: ago(60) },
    ]
    const watch = createStateWatch({ hub, pollMs: 3_600_000, readStates: async () => (reads++, states) })
    try {
      await watch.poll()
      expect(reads).toBe(0) // nobody listens
      const events: LiveEvent[] = []
      const unsubscribe = hub.subscribe((e) => events.push(e))
      await watch.poll() // the baseline: a resync, no states
      expect([reads, events]).toEqual([1, [{ type: 'targets', reason: 'resync' }]])
      events.length = 0
      states = [
        { id: 1, state: 'down', since: ago(10) },
        { id: 2, state: 'up', since: ago(60) },
        { id: 3, state: 'unknown', since: ago(1) }, // new: the `changed` event of the target set covers it
      ]
      await watch.poll()
      await watch.poll()
      expect(events).toEqual([{ type: 'targets', reason: 'state', states: [{ target_id: 1, state: 'down', state_since: ago(10).toISOString() }] }])
      unsubscribe()
      await watch.poll()
      expect(reads).toBe(3)
    } finally {
      watch.close()
      hub.close()
    }
  })

  it('survives a failed read and says so', async () => {
    const hub = createLiveHub({ flushMs: 60_000 })
    const errors: unknown[] = []
    const watch = createStateWatch({ hub, pollMs: 3_600_000, readStates: async () => Promise.reject(new Error('database unreachable')), onError: (e) => errors.push(e) })
    const unsubscribe = hub.subscribe(() => {})
    await watch.poll()
    await watch.poll()
    expect(errors).toHaveLength(2)
    unsubscribe()
    watch.close()
    hub.close()
  })
})
