// Target states on the live stream: while anyone listens to GET /live, the targets' states (decided by
// the API, src/targets/target-state.ts) are read every `pollMs` and each change is announced as a
// `targets` event with reason `state` and the changed states. The dashboard re-reads the target list on
// it, so its labels stay the API's without deciding anything itself. Nothing is read while nobody listens;
// the first read after that (the baseline) is announced as reason `resync`, so the first listener reads its
// list again after it.

import type { TargetState } from '../targets/target-state.js'
import type { LiveHub } from './hub.js'
import type { LiveTargetState } from './live.types.js'

export interface StateWatchDeps {
  hub: LiveHub
  /** Every target's state now (the same function as GET /targets/). */
  readStates: () => Promise<{ id: number; state: TargetState; since: Date }[]>
  pollMs: number
  onError?: (err: unknown) => void
}

export function createStateWatch(deps: StateWatchDeps) {
  let known: Map<number, LiveTargetState> | null = null
  let running = false

  async function poll(): Promise<void> {
    if (running) return
    if (deps.hub.subscribers() === 0) {
      known = null // a later listener gets a fresh baseline, not changes from long ago
      return
    }
    running = true
    try {
      const now = new Map((await deps.readStates()).map((s) => [s.id, { target_id: s.id, state: s.state, state_since: s.since.toISOString() }]))
      const baseline = known === null
      const changed = known ? [...now.values()].filter((s) => known!.has(s.target_id) && known!.get(s.target_id)!.state !== s.state) : []
      known = now
      // The first listener read its list before this baseline: a change in between would go unseen.
      if (baseline) deps.hub.targetsChanged('resync')
      else if (changed.length > 0) deps.hub.targetsChanged('state', changed)
    } catch (err) {
      deps.onError?.(err)
    } finally {
      running = false
    }
  }

  const timer = setInterval(() => void poll(), deps.pollMs)
  timer.unref()
  return {
    poll,
    close: () => clearInterval(timer),
  }
}
