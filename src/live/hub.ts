// Live updates for the dashboard: the scheduler reports every round and outage transition here; the hub
// keeps the latest per-target figures (also read by /metrics) and sends subscribers one batched
// `samples` message a second instead of one message per round, plus state changes as they happen.

import type { LiveEvent, LiveTargetFigures, LiveTargetState } from './live.types.js'

export interface RoundReport {
  targetId: number
  time: Date
  sent: number
  received: number
  rttUs: (number | null)[]
}

export function createLiveHub(opts: { flushMs?: number } = {}) {
  const subscribers = new Set<(e: LiveEvent) => void>()
  const figures = new Map<number, LiveTargetFigures>()
  let pending = new Map<number, LiveTargetFigures>()
  const timer = setInterval(flush, opts.flushMs ?? 1000)
  timer.unref()

  function emit(e: LiveEvent) {
    for (const s of subscribers) {
      try {
        s(e)
      } catch {
        subscribers.delete(s)
      }
    }
  }

  function flush() {
    if (pending.size === 0 || subscribers.size === 0) {
      pending.clear()
      return
    }
    const items = [...pending.values()].map(({ rounds: _r, echoesSent: _s, echoesReceived: _e, ...rest }) => rest)
    pending = new Map()
    emit({ type: 'samples', items })
  }

  return {
    round(r: RoundReport) {
      const replies = r.rttUs.filter((x): x is number => x !== null).sort((a, b) => a - b)
      const median = replies.length ? replies[Math.floor((replies.length - 1) / 2)]! / 1000 : null
      const prev = figures.get(r.targetId)
      const f: LiveTargetFigures = {
        targetId: r.targetId,
        time: r.time.toISOString(),
        rttMs: median,
        loss: r.sent ? (r.sent - r.received) / r.sent : 0,
        sent: r.sent,
        received: r.received,
        rounds: (prev?.rounds ?? 0) + 1,
        echoesSent: (prev?.echoesSent ?? 0) + r.sent,
        echoesReceived: (prev?.echoesReceived ?? 0) + r.received,
      }
      figures.set(r.targetId, f)
      pending.set(r.targetId, f)
    },
    outage(targetId: number, state: 'open' | 'closed', cause?: string) {
      emit({ type: 'outage', target_id: targetId, state, time: new Date().toISOString(), ...(cause ? { cause } : {}) })
    },
    targetsChanged(reason: string, states?: LiveTargetState[]) {
      emit({ type: 'targets', reason, ...(states ? { states } : {}) })
    },
    forget(targetId: number) {
      figures.delete(targetId)
    },
    subscribe(fn: (e: LiveEvent) => void): () => void {
      subscribers.add(fn)
      return () => subscribers.delete(fn)
    },
    figures: (): LiveTargetFigures[] => [...figures.values()],
    subscribers: () => subscribers.size,
    close() {
      clearInterval(timer)
      subscribers.clear()
    },
  }
}

export type LiveHub = ReturnType<typeof createLiveHub>
