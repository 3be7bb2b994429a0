// The one definition of a target's state (API_GUIDE.md, "Target state"): the targets routes, the fleet
// view, the target page, the badges and the CLI all show what this function says; the browser no longer
// decides. Pure, so that the rule is tested without a database: the repo gathers the facts (one query for
// a page of targets), this decides.

export const TARGET_STATES = ['up', 'degraded', 'down', 'paused', 'unknown'] as const
export type TargetState = (typeof TARGET_STATES)[number]

/** A target answering but losing at least this share of its echoes over the loss window is degraded. */
export const DEGRADED_LOSS_PERCENT = 1
/** The loss window: the minutes of the 1-minute tier that begin within this many minutes before now. */
export const LOSS_WINDOW_MINUTES = 60
/**
 * The loss window's figures are shared by the API's readers of one process for at most this long, as the
 * fleet summary's are (its real-time part costs about 0.2 s for 1,000 targets); outages, replies and
 * pauses are read fresh on every request.
 */
export const LOSS_WINDOW_SHARED_MS = 30_000
/** A target is answering while its newest reply is at most this many of its intervals old … */
export const REPLY_WINDOW_INTERVALS = 3
/** … and never less than this (a 1 s target is not unknown after one late write batch). */
export const REPLY_WINDOW_MIN_S = 10

/** What the database knows about one target, gathered by `listTargetFacts` (targets.repo.ts). */
export interface StateFacts {
  enabled: boolean
  intervalS: number
  createdAt: Date
  /** When it was last paused (its newest `stop` event); null when it never was (seeded targets start paused). */
  pausedAt: Date | null
  /** When it was last resumed (its newest `start` event). */
  resumedAt: Date | null
  /** Start of the open outage, if one is open. */
  openOutageAt: Date | null
  /** End of its newest closed outage. */
  lastOutageEndAt: Date | null
  /** Its newest reply (within the last day). */
  lastReplyAt: Date | null
  /** Echoes sent and received over the loss window (1-minute tier, real-time). */
  windowSent: number
  windowReceived: number
  /** The first minute of the loss window with a lost echo. */
  firstLossAt: Date | null
}

export interface StateVerdict {
  state: TargetState
  /** When the current state began (see API_GUIDE.md for what that means per state). */
  since: Date
}

export const replyWindowS = (intervalS: number) => Math.max(REPLY_WINDOW_INTERVALS * intervalS, REPLY_WINDOW_MIN_S)

export const windowLossPercent = (f: Pick<StateFacts, 'windowSent' | 'windowReceived'>): number | null =>
  f.windowSent > 0 ? ((f.windowSent - f.windowReceived) / f.windowSent) * 100 : null

const latest = (...ds: (Date | null)[]): Date => new Date(Math.max(...ds.filter((d): d is Date => d !== null).map((d) => d.getTime())))

/**
 * paused: not probed. down: an outage is open (OUTAGE_OPEN_ROUNDS fully lost rounds; it closes on the
 * first reply). Otherwise answering (a reply within the reply window) is up, or degraded when at least
 * DEGRADED_LOSS_PERCENT of the loss window's echoes were lost; not answering is unknown (never probed,
 * no probe running, or lost rounds not yet an outage).
 */
export function decideState(f: StateFacts, now: Date): StateVerdict {
  if (!f.enabled) return { state: 'paused', since: f.pausedAt ?? f.createdAt }
  if (f.openOutageAt) return { state: 'down', since: f.openOutageAt }
  // Probing (again) since: a resume, or the creation.
  const active = latest(f.createdAt, f.resumedAt)
  const answering = f.lastReplyAt !== null && now.getTime() - f.lastReplyAt.getTime() <= replyWindowS(f.intervalS) * 1000
  if (!answering) {
    // Silent since its last reply stopped counting, unless it was (re)started after that.
    const lapsed = f.lastReplyAt ? new Date(f.lastReplyAt.getTime() + replyWindowS(f.intervalS) * 1000) : null
    return { state: 'unknown', since: latest(active, f.lastOutageEndAt, lapsed) }
  }
  const loss = windowLossPercent(f)
  if (loss !== null && loss >= DEGRADED_LOSS_PERCENT) {
    // Degraded since the loss now counted began (minute resolution), not before it answered again.
    const windowStart = new Date(now.getTime() - LOSS_WINDOW_MINUTES * 60_000)
    return { state: 'degraded', since: latest(f.firstLossAt ?? windowStart, active, f.lastOutageEndAt) }
  }
  // Up since it last came back: the end of its last outage, or its resume or creation. A degraded spell
  // in between does not move it (when loss drops out of the window is not recorded).
  return { state: 'up', since: latest(active, f.lastOutageEndAt) }
}

/** A state's age for people: `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h` (the CLI and the dashboard). */
export function formatStateAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`
  const d = Math.floor(h / 24)
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`
}
