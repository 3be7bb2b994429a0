import type { LeaseStatus } from './leases.js'

/**
 * What the probe engine reports to /health and /metrics. `server.ts` builds it from the scheduler and the
 * writer; it lives here, not in app.ts, so the routes that read it do not import the app that registers them.
 */
export interface ProbeStatus {
  enabled: boolean
  running: boolean
  writer: { retrying: boolean; dropped: number }
  /** This process's fleet membership (null when it does not probe). */
  leases?: LeaseStatus | null
  [k: string]: unknown
}
