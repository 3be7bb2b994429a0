import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { closeOutage, openOutage } from '../outages/outages.repo.js'
import type { OutageClosed, OutageOpened } from './outage-tracker.js'

/**
 * Writes the outage tracker's transitions in order, each retried with backoff until the database takes
 * it (while `keepTrying()`; once otherwise), so a database outage never loses or reorders one.
 */
export function createOutageWrites(opts: { sql: Sql; log: Logger; keepTrying: () => boolean; site?: string }) {
  const { sql, log } = opts
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
    open: (o: OutageOpened) => enqueue(() => openOutage(sql, { ...o, ...(opts.site ? { site: opts.site } : {}) })),
    close: (c: OutageClosed) => enqueue(() => closeOutage(sql, { ...c, ...(opts.site ? { site: opts.site } : {}) })),
    /** Resolves when every transition queued so far is written (or given up). */
    settled: () => chain,
  }
}
