// The scheduler's counters: rounds, echoes, late and missed rounds, reloads, the lag of recent round
// starts and the echo rate. Fixed-size windows, so the cost stays flat whatever the load.

export interface SchedulerStats {
  targets: number
  rounds: number
  echoes: number
  lateRounds: number
  missedRounds: number
  inFlightRounds: number
  inFlightEchoes: number
  echoesPerSecond: number
  lagP50Ms: number | null
  lagP99Ms: number | null
  lagMaxMs: number | null
  reloads: number
  lastReloadError: string | null
}

/** What only the scheduler knows at the moment of asking. */
export interface LiveCounts {
  targets: number
  inFlightRounds: number
  inFlightEchoes: number
}

const LAG_WINDOW = 20_000
const ECHO_WINDOW_S = 10

export function createProbeStats(opts: { now: () => number; lateMs: number }) {
  const { now, lateMs } = opts
  const lags = new Float64Array(LAG_WINDOW)
  let lagCount = 0
  // Echoes of completed rounds per second over the last 10 s, for a rate: a fixed ring, whatever the load.
  const echoSeconds = new Float64Array(ECHO_WINDOW_S)
  const echoCounts = new Float64Array(ECHO_WINDOW_S)
  const counts = { rounds: 0, echoes: 0, lateRounds: 0, missedRounds: 0, reloads: 0 }
  let lastReloadError: string | null = null

  function recordEchoes(n: number) {
    const sec = Math.floor(now() / 1000)
    const i = sec % ECHO_WINDOW_S
    if (echoSeconds[i] !== sec) {
      echoSeconds[i] = sec
      echoCounts[i] = 0
    }
    echoCounts[i]! += n
  }

  return {
    /** A round began `lagMs` after its slot. */
    recordRoundStart(lagMs: number) {
      lags[lagCount % LAG_WINDOW] = lagMs
      lagCount++
      if (lagMs > lateMs) counts.lateRounds++
    },
    recordRoundDone(echoes: number) {
      counts.rounds++
      counts.echoes += echoes
      recordEchoes(echoes)
    },
    recordMissedSlots(n: number) {
      counts.missedRounds += n
    },
    recordReload() {
      counts.reloads++
    },
    /** null once a reload succeeds again. */
    recordReloadError(message: string | null) {
      lastReloadError = message
    },
    snapshot(live: LiveCounts): SchedulerStats {
      const n = Math.min(lagCount, LAG_WINDOW)
      const sorted = Array.from(lags.subarray(0, n)).sort((a, b) => a - b)
      const q = (p: number) => (n ? Math.round(sorted[Math.min(n - 1, Math.floor(p * n))]! * 10) / 10 : null)
      const sec = Math.floor(now() / 1000)
      let windowEchoes = 0
      for (let i = 0; i < ECHO_WINDOW_S; i++) if (sec - echoSeconds[i]! < ECHO_WINDOW_S) windowEchoes += echoCounts[i]!
      return {
        targets: live.targets,
        rounds: counts.rounds,
        echoes: counts.echoes,
        lateRounds: counts.lateRounds,
        missedRounds: counts.missedRounds,
        inFlightRounds: live.inFlightRounds,
        inFlightEchoes: live.inFlightEchoes,
        echoesPerSecond: Math.round(windowEchoes / ECHO_WINDOW_S),
        lagP50Ms: q(0.5),
        lagP99Ms: q(0.99),
        lagMaxMs: n ? sorted[n - 1]! : null,
        reloads: counts.reloads,
        lastReloadError,
      }
    },
  }
}

export type ProbeStats = ReturnType<typeof createProbeStats>
