// A pass that repeats: `everyMs` after the previous one ended (passes never overlap), on an unref'd timer
// so that it never keeps the process alive. A failed pass goes to `onError` and the next one runs as
// usual. `stop()` cancels the next pass and waits for the one in progress. Used by the alert evaluator
// and sender and by the traceroute schedules.

export interface Periodic {
  start(): void
  stop(): Promise<void>
  readonly stopped: boolean
}

export function createPeriodic(pass: () => Promise<void>, everyMs: number, onError: (err: Error) => void): Periodic {
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let stopped = true

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(() => {
      running = pass()
        .catch((err: unknown) => onError(err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          running = null
          schedule()
        })
    }, everyMs)
    timer.unref()
  }

  return {
    start(): void {
      if (!stopped) return
      stopped = false
      schedule()
    },
    async stop(): Promise<void> {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
    get stopped() {
      return stopped
    },
  }
}
