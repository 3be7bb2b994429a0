import type { Logger } from '../log.js'
import type { OutageClosed, OutageOpened } from './outage-tracker.js'
import type { ProbeStore } from './store.js'

/**
 * Writes the outage tracker's transitions in order, each retried with backoff until the store takes
 * it (while `keepTrying()`; once otherwise), so a database outage never loses or reorders one.
 */
export function createOutageWrites(opts: { store: Pick<ProbeStore, 'openOutage' | 'closeOutage'>; log: Logger; keepTrying: () => boolean }) {
  const { store, log } = opts
  let chain: Promise<void> = Promise.resolve()

  function enqueue(fn: () => Promise<unknown>) {
    chain = chain.then(async () => {
      for (let attempt = 0; opts.keepTrying() || attempt === 0; attempt++) {
        try {
          await fn()
          return
        } catch (err) {
          if (attempt === 0) log.warn({ err: (err as Error).message }, 'outage write failed; retrying')
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)))
        }
      }
    })
  }

  return {
    open: (o: OutageOpened) => enqueue(() => store.openOutage(o)),
    close: (c: OutageClosed) => enqueue(() => store.closeOutage(c)),
    /** Resolves when every transition queued so far is written (or given up). */
    settled: () => chain,
  }
}
