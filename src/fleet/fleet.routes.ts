import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Sql } from '../db/open.js'
import { fleetSummary } from './fleet.repo.js'
import { FLEET_BUCKET_SECONDS, FLEET_CACHE_MS, FLEET_WINDOW_MINUTES, type FleetSummaryOut, fleetSummaryOut } from './fleet.schema.js'

/**
 * One computation shared by every caller for `ttlMs`, and by callers arriving while it runs: every open
 * dashboard asks once a minute, and the answer (minute rollups) cannot change faster than that anyway.
 */
export function sharedFor<T>(ttlMs: number, compute: () => Promise<T>, now = () => Date.now()): () => Promise<T> {
  let cached: { at: number; value: T } | null = null
  let running: Promise<T> | null = null
  return () => {
    if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.value)
    running ??= compute()
      .then((value) => ((cached = { at: now(), value }), value))
      .finally(() => (running = null))
    return running
  }
}

export const fleetRoutes: FastifyPluginAsyncZod<{ sql: Sql }> = async (app, { sql }) => {
  const summary = sharedFor<FleetSummaryOut>(FLEET_CACHE_MS, () => fleetSummary(sql, { windowMinutes: FLEET_WINDOW_MINUTES, bucketS: FLEET_BUCKET_SECONDS }))
  app.get(
    '/fleet/summary',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['dashboard'],
        summary: 'Last-hour loss, mean and p95 latency and a sparkline of every target, in one answer',
        description:
          `Window: the last ${FLEET_WINDOW_MINUTES} minutes in ${FLEET_BUCKET_SECONDS}-second buckets, from the 1-minute tier. ` +
          `Targets without echoes in the window are left out. Computed at most once every ${FLEET_CACHE_MS / 1000} s for all callers.`,
        response: { 200: fleetSummaryOut },
      },
    },
    async () => summary(),
  )
}
