import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import type { RetentionDays } from '../db/maintenance/policies.js'
import { targetIdParams } from '../targets/targets.schema.js'
import { insightsOut, insightsQuery, outageOut, outagesQuery } from './insights.schema.js'
import { getInsights, getOutages } from './insights.service.js'
import { DEFAULT_RETENTION } from './insights.tiers.js'

export interface InsightsRoutesOptions {
  sql: Sql
  /** Tier retention, so that a window older than a tier's data goes to a coarser tier (default 3/30/1825 days). */
  retention?: RetentionDays
}

export const insightsRoutes: FastifyPluginAsyncZod<InsightsRoutesOptions> = async (app, { sql, retention = DEFAULT_RETENTION }) => {
  const read = { onRequest: [app.authenticate] }

  app.get(
    '/targets/:id/insights',
    {
      ...read,
      schema: {
        tags: ['insights'],
        summary: 'Latency, loss, jitter, MOS and outages over a window, with a timeline',
        description:
          'Answered from raw samples for windows up to 6 h, from the 1-minute tier up to 7 days and from the 1-hour tier beyond; ' +
          'a window older than a tier\'s retention goes to the next one. Counts cover [from, to) exactly while raw samples cover ' +
          'its ends, else whole tier buckets inside it (window_start/window_end say which). Percentiles are exact while raw ' +
          'samples cover the window, else histogram estimates (percentile_source).',
        params: targetIdParams,
        querystring: insightsQuery,
        response: { 200: insightsOut },
      },
    },
    async (req) => getInsights(sql, req.params.id, req.query, { retention }),
  )

  app.get(
    '/targets/:id/outages',
    { ...read, schema: { tags: ['insights'], summary: 'Outages, newest first', params: targetIdParams, querystring: outagesQuery, response: { 200: z.array(outageOut) } } },
    async (req) => getOutages(sql, req.params.id, req.query.limit, undefined, req.query.site ?? null),
  )
}
