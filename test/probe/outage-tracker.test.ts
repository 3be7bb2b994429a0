import { describe, expect, it } from 'vitest'
import { EchoStatus } from '../../src/probe/icmp.js'
import { type OutageClosed, type OutageOpened, type RoundOutcome, createOutageTracker } from '../../src/probe/outage-tracker.js'

// The outage state machine on its own: rounds in, open/close decisions out, no network, no database.

const T0 = Date.parse('2025-01-01T00:00:00Z')
const at = (s: number) => new Date(T0 + s * 1000)

const reply = { rttUs: 120, status: EchoStatus.ok, reporter: null }
const timeout = { rttUs: null, status: EchoStatus.timeout, reporter: null }
const unreachable = (reporter: string | null) => ({ rttUs: null, status: EchoStatus.unreachable, reporter })

/** A round sent at second `s`; a reply, if any, came from the echo sent 0.5 s later. */
function round(s: number, echoes: RoundOutcome['echoes']): RoundOutcome {
  return { at: at(s), replyAt: echoes.some((e) => e.rttUs !== null) ? at(s + 0.5) : null, echoes }
}
const lost = (s: number) => round(s, [timeout, timeout])
const up = (s: number) => round(s, [timeout, reply])

function setup(openAfterRounds = 3) {
  const opened: OutageOpened[] = []
  const closed: OutageClosed[] = []
  const tracker = createOutageTracker({ openAfterRounds, open: (o) => opened.push(o), close: (c) => closed.push(c) })
  return { tracker, opened, closed }
}

describe('outage tracker', () => {
  it('opens on the configured number of lost rounds in a row, dated from the first of them', () => {
    const { tracker, opened } = setup(3)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, lost(1))
    expect(opened).toEqual([])
    expect(tracker.isOpen(1)).toBe(false)
    tracker.recordRound(1, lost(2))
    expect(opened).toEqual([{ targetId: 1, startedAt: at(0), lostRounds: 3, cause: 'timeout' }])
    expect(tracker.isOpen(1)).toBe(true)
  })

  it('follows the threshold it is given', () => {
    const one = setup(1)
    one.tracker.recordRound(1, lost(0))
    expect(one.opened).toHaveLength(1)
    const five = setup(5)
    for (let s = 0; s < 4; s++) five.tracker.recordRound(1, lost(s))
    expect(five.opened).toHaveLength(0)
    five.tracker.recordRound(1, lost(4))
    expect(five.opened).toMatchObject([{ startedAt: at(0), lostRounds: 5 }])
  })

  it('does not open twice while the loss goes on', () => {
    const { tracker, opened, closed } = setup(3)
    for (let s = 0; s < 10; s++) tracker.recordRound(1, lost(s))
    expect(opened).toHaveLength(1)
    expect(closed).toHaveLength(0)
  })

  it('counts only whole rounds lost: one reply in a round breaks the streak', () => {
    const { tracker, opened } = setup(3)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, lost(1))
    tracker.recordRound(1, up(2)) // 50 % loss is not an outage
    tracker.recordRound(1, lost(3))
    tracker.recordRound(1, lost(4))
    expect(opened).toHaveLength(0)
    tracker.recordRound(1, lost(5))
    expect(opened).toEqual([{ targetId: 1, startedAt: at(3), lostRounds: 3, cause: 'timeout' }])
  })

  it('closes on the first round with a reply, dated from that reply, with the rounds lost', () => {
    const { tracker, closed } = setup(3)
    for (let s = 0; s < 4; s++) tracker.recordRound(1, lost(s))
    tracker.recordRound(1, up(4))
    expect(closed).toEqual([{ targetId: 1, endedAt: at(4.5), lostRounds: 4 }])
    expect(tracker.isOpen(1)).toBe(false)
    tracker.recordRound(1, up(5))
    expect(closed).toHaveLength(1) // closed once
  })

  it('dates the close from the round when no reply time is given', () => {
    const { tracker, closed } = setup(1)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, { at: at(1), replyAt: null, echoes: [reply] })
    expect(closed).toEqual([{ targetId: 1, endedAt: at(1), lostRounds: 1 }])
  })

  it('never closes what it did not open', () => {
    const { tracker, closed } = setup(3)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, lost(1))
    tracker.recordRound(1, up(2))
    expect(closed).toHaveLength(0)
  })

  it('opens a new outage after a recovery, counting from scratch', () => {
    const { tracker, opened, closed } = setup(2)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, lost(1))
    tracker.recordRound(1, up(2))
    tracker.recordRound(1, lost(3))
    expect(opened).toHaveLength(1)
    tracker.recordRound(1, lost(4))
    expect(opened).toEqual([
      { targetId: 1, startedAt: at(0), lostRounds: 2, cause: 'timeout' },
      { targetId: 1, startedAt: at(3), lostRounds: 2, cause: 'timeout' },
    ])
    expect(closed).toHaveLength(1)
  })

  it('names the router that reported the destination unreachable, from the round that opens', () => {
    const { tracker, opened } = setup(2)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, round(1, [timeout, unreachable(null), unreachable('10.9.0.1')]))
    tracker.recordRound(2, round(0, [unreachable(null)]))
    tracker.recordRound(2, round(1, [unreachable(null)]))
    expect(opened).toMatchObject([
      { targetId: 1, cause: 'unreachable (reported by 10.9.0.1)' },
      { targetId: 2, cause: 'unreachable (reported by a router)' },
    ])
  })

  it('keeps targets apart', () => {
    const { tracker, opened, closed } = setup(2)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(2, lost(0))
    tracker.recordRound(2, up(1))
    tracker.recordRound(1, lost(1))
    expect(opened).toMatchObject([{ targetId: 1 }])
    expect(tracker.isOpen(2)).toBe(false)
    tracker.recordRound(2, up(2))
    expect(closed).toHaveLength(0)
  })

  it('forgets a target removed during an outage: back again, it starts clean', () => {
    const { tracker, opened, closed } = setup(2)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, lost(1))
    expect(tracker.isOpen(1)).toBe(true)
    tracker.forget(1)
    expect(tracker.isOpen(1)).toBe(false)
    tracker.recordRound(1, up(10)) // nothing to close: the database ended it on pause
    expect(closed).toHaveLength(0)
    tracker.recordRound(1, lost(11))
    expect(opened).toHaveLength(1)
    tracker.recordRound(1, lost(12))
    expect(opened[1]).toEqual({ targetId: 1, startedAt: at(11), lostRounds: 2, cause: 'timeout' })
  })

  it('forgets a streak that had not opened yet', () => {
    const { tracker, opened } = setup(3)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, lost(1))
    tracker.forget(1)
    tracker.recordRound(1, lost(2))
    expect(opened).toHaveLength(0)
  })

  it('resumes an outage left open at the last stop: no second open, and the first reply closes it', () => {
    const { tracker, opened, closed } = setup(3)
    tracker.resume(1, 7)
    expect(tracker.isOpen(1)).toBe(true)
    tracker.recordRound(1, lost(0))
    tracker.recordRound(1, lost(1))
    expect(opened).toHaveLength(0)
    tracker.recordRound(1, up(2))
    expect(closed).toEqual([{ targetId: 1, endedAt: at(2.5), lostRounds: 9 }])
  })
})
