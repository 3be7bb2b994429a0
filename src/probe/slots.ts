// Slot arithmetic of the absolute schedule: round k of a target is due at phase + k·interval, counted
// from the epoch, so a round's slot never depends on when the previous round ran or was written.

/** Deterministic phase of a target inside its interval (Knuth multiplicative hash of the id). */
export function phaseMs(id: number, intervalMs: number): number {
  return ((id * 2654435761) >>> 0) % intervalMs
}

/** The first slot `phase + k·interval` at or after `now`. */
export function nextSlot(now: number, intervalMs: number, phase: number): number {
  const k = Math.ceil((now - phase) / intervalMs)
  return phase + k * intervalMs
}

/** The slot to run at `now` for a round due at `due`, and how many slots were skipped to reach it. */
export function catchUpSlot(due: number, now: number, intervalMs: number): { due: number; missed: number } {
  // Whole slots already gone are not made up in a burst: they are counted as missed.
  if (now - due < intervalMs) return { due, missed: 0 }
  const missed = Math.floor((now - due) / intervalMs)
  return { due: due + missed * intervalMs, missed }
}

/**
 * The first slot of a target taken over from a probe that was done with it at `doneAt`: the first slot
 * after doneAt (so no slot is probed twice), yet at most one slot back from `now` (the scheduler runs that
 * one late; older slots nobody probed are not made up).
 */
export function handoverSlot(now: number, doneAt: number, intervalMs: number, phase: number): number {
  return nextSlot(Math.max(doneAt + 1, now - intervalMs + 1), intervalMs, phase)
}
