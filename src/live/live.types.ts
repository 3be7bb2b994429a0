// The shapes of GET /live, free of Node types so that the dashboard imports them too.

import type { TargetState } from '../targets/target-state.js'

export interface LiveTargetFigures {
  targetId: number
  time: string
  /** Median RTT of the last round, ms (null: nothing came back). */
  rttMs: number | null
  /** Loss of the last round, 0..1. */
  loss: number
  sent: number
  received: number
  /** Rounds and echoes since start, for counters. */
  rounds: number
  echoesSent: number
  echoesReceived: number
}

export type LiveEvent =
  | { type: 'samples'; items: Omit<LiveTargetFigures, 'rounds' | 'echoesSent' | 'echoesReceived'>[] }
  | { type: 'outage'; target_id: number; state: 'open' | 'closed'; time: string; cause?: string }
  | { type: 'targets'; reason: string; states?: LiveTargetState[] }

/** A target's state as GET /targets/ says it, sent when it changed (`targets` event, reason `state`). */
export interface LiveTargetState {
  target_id: number
  state: TargetState
  state_since: string
}
