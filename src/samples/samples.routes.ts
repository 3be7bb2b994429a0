import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { eventOut, eventsQuery } from '../events/events.schema.js'
import { targetIdParams } from '../targets/targets.schema.js'
import { requireTarget } from '../targets/targets.service.js'
import { streamSamplesCsv } from './export.js'
import { exportQuery, logOut, logsQuery } from './samples.schema.js'
import { exportRange, getTargetEvents, getTargetLogs } from './samples.service.js'

// A target's history as stored: the newest raw samples, the CSV export and the event log.
// Unknown targets are a 404 here (the predecessor answered [] for logs and events).

export const samplesRoutes: FastifyPluginAsyncZod<{ sql: Sql }> = async (app, { sql }) => {
  const read = { onRequest: [app.authenticate] }

  app.get(
    '/targets/:id/logs',
    { ...read, schema: { tags: ['samples'], summary: 'The newest raw samples, oldest first', params: targetIdParams, querystring: logsQuery, response: { 200: z.array(logOut) } } },
    async (req) => {
      return getTargetLogs(sql, req.params.id, req.query.limit, req.query.site)
    },
  )

  app.get(
    '/targets/:id/logs/export',
    {
      ...read,
      schema: {
        tags: ['samples'],
        summary: 'Raw samples as CSV (streamed), oldest first',
        description: 'Columns: time,target_id,target_ip,latency_ms,hops,packet_loss,site. Raw samples are kept 3 days by default.',
        params: targetIdParams,
        querystring: exportQuery,
      },
    },
    async (req, reply) => {
      const target = await requireTarget(sql, req.params.id)
      const range = await exportRange(sql, req.query)
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename=pingscope-target-${target.id}-logs.csv`)
        .send(streamSamplesCsv(sql, target, range))
    },
  )

  app.get(
    '/targets/:id/events',
    { ...read, schema: { tags: ['events'], summary: 'Target events, newest first', params: targetIdParams, querystring: eventsQuery, response: { 200: z.array(eventOut) } } },
    async (req) => {
      return getTargetEvents(sql, req.params.id, req.query.limit)
    },
  )
}
