// The state of one alert rule for one target, and how an observation moves it: the hysteresis that keeps
// a flapping link from paging anyone. Pure: the evaluator feeds it what the rollups say, and turns its
// `fire` and `resolve` transitions into incidents and notifications.
//
//   ok          condition not met
//   pending     met, for less than `forMs` so far            → firing once met for forMs (fire)
//                                                             → ok as soon as it is not met
//   firing      the incident is open                          → recovering when not met
//   recovering  not met, for less than `recoverMs` so far     → ok once clear for recoverMs (resolve)
//                                                             → firing again as soon as it is met
//
// An observation without data (no samples in the window) moves nothing: silence is judged by the
// outage condition, not by the lack of a loss figure.

export type AlertPhase = 'ok' | 'pending' | 'firing' | 'recovering'

export interface AlertState {
  phase: AlertPhase
  /** When the current phase began (ms). */
  since: number
  /** While firing or recovering: when the condition began to hold (the incident's start). */
  startedAt: number | null
  /** While firing or recovering: the worst value seen. */
  peak: number | null
}

export interface Observation {
  at: number
  /** Whether the condition holds; null when there is nothing to judge by. */
  met: boolean | null
  value: number | null
}

export interface Hysteresis {
  /** The condition must hold this long before the rule fires (0: at once). */
  forMs: number
  /** And be clear this long before it resolves (0: at once). */
  recoverMs: number
}

export type Transition =
  | { kind: 'fire'; startedAt: number; at: number; value: number | null }
  | { kind: 'resolve'; startedAt: number; at: number; peak: number | null }

export const INITIAL_STATE: AlertState = { phase: 'ok', since: 0, startedAt: null, peak: null }

const worse = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b))

/** The next state after `obs`, and the transition it makes, if any. */
export function observe(state: AlertState, obs: Observation, h: Hysteresis): { state: AlertState; transition: Transition | null } {
  if (obs.met === null) return { state, transition: null }
  const { at, met, value } = obs
  switch (state.phase) {
    case 'ok':
      if (!met) return { state, transition: null }
      return observe({ phase: 'pending', since: at, startedAt: at, peak: value }, obs, h)
    case 'pending': {
      if (!met) return { state: { ...INITIAL_STATE, since: at }, transition: null }
      const peak = worse(state.peak, value)
      const startedAt = state.startedAt ?? state.since
      if (at - state.since < h.forMs) return { state: { ...state, peak }, transition: null }
      return { state: { phase: 'firing', since: at, startedAt, peak }, transition: { kind: 'fire', startedAt, at, value } }
    }
    case 'firing':
      if (met) return { state: { ...state, peak: worse(state.peak, value) }, transition: null }
      return observe({ ...state, phase: 'recovering', since: at }, obs, h)
    case 'recovering': {
      if (met) return { state: { ...state, phase: 'firing', since: at, peak: worse(state.peak, value) }, transition: null }
      if (at - state.since < h.recoverMs) return { state, transition: null }
      return {
        state: { ...INITIAL_STATE, since: at },
        transition: { kind: 'resolve', startedAt: state.startedAt ?? state.since, at: state.since, peak: state.peak },
      }
    }
  }
}
