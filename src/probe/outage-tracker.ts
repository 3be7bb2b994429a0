import { EchoStatus, type EchoResult } from './icmp.js'

// The outage state machine, one per target. A round with no reply at all is lost; `openAfterRounds`
// consecutive lost rounds open an outage, dated from the first of them; the first round with any reply
// closes it, dated from that reply. Partial loss is not an outage. What an open or a close does (write
// it, announce it) is the caller's: the tracker only decides, and calls `open` / `close` once per
// transition.

export interface OutageOpened {
  targetId: number
  /** When the first of the lost rounds was sent. */
  startedAt: Date
  lostRounds: number
  /** 'timeout', or 'unreachable (reported by <router>)' when a router said so. */
  cause: string
}

export interface OutageClosed {
  targetId: number
  endedAt: Date
  /** Lost rounds in a row up to the recovery (counted from the restart for a resumed outage). */
  lostRounds: number
}

/** One finished round of a target, as the tracker needs it. */
export interface RoundOutcome {
  /** When the round's first echo was sent. */
  at: Date
  /** When the last echo that got a reply was sent; null when none did. */
  replyAt: Date | null
  echoes: Pick<EchoResult, 'rttUs' | 'status' | 'reporter'>[]
}

export interface OutageTrackerOptions {
  openAfterRounds: number
  open: (o: OutageOpened) => void
  close: (c: OutageClosed) => void
}

interface OutageState {
  lostRounds: number
  firstLostAt: Date | null
  open: boolean
}

export function createOutageTracker(opts: OutageTrackerOptions) {
  const states = new Map<number, OutageState>()

  function stateOf(targetId: number): OutageState {
    let s = states.get(targetId)
    if (!s) {
      s = { lostRounds: 0, firstLostAt: null, open: false }
      states.set(targetId, s)
    }
    return s
  }

  return {
    recordRound(targetId: number, round: RoundOutcome) {
      const s = stateOf(targetId)
      if (round.echoes.some((e) => e.rttUs !== null)) {
        const lostRounds = s.lostRounds
        const wasOpen = s.open
        s.open = false
        s.lostRounds = 0
        s.firstLostAt = null
        if (wasOpen) opts.close({ targetId, endedAt: round.replyAt ?? round.at, lostRounds })
        return
      }
      if (s.lostRounds === 0) s.firstLostAt = round.at
      s.lostRounds++
      if (s.open || s.lostRounds < opts.openAfterRounds) return
      s.open = true
      opts.open({ targetId, startedAt: s.firstLostAt ?? round.at, lostRounds: s.lostRounds, cause: causeOf(round.echoes) })
    },
    /** An outage still open in the database at start-up: the state machine resumes where it was. */
    resume(targetId: number, lostRounds: number) {
      const s = stateOf(targetId)
      s.open = true
      s.lostRounds = lostRounds
    },
    /**
     * The target is no longer probed: its state goes, and if it comes back it starts clean. The database
     * side needs nothing from here: pausing ends the open outage and deleting removes it (targets.service).
     */
    forget(targetId: number) {
      states.delete(targetId)
    },
    isOpen(targetId: number): boolean {
      return states.get(targetId)?.open ?? false
    },
  }
}

function causeOf(echoes: RoundOutcome['echoes']): string {
  if (!echoes.some((e) => e.status === EchoStatus.unreachable)) return 'timeout'
  return `unreachable (reported by ${echoes.find((e) => e.reporter)?.reporter ?? 'a router'})`
}

export type OutageTracker = ReturnType<typeof createOutageTracker>
