import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { timelineEventOut, timelineQuery } from './events.schema.js'
import { getTimeline } from './events.service.js'

// The global events timeline: every target's changes, outages, path changes and alert incidents,
// newest first. A target's own list is GET /targets/{id}/events (src/samples/samples.routes.ts).

export const eventsRoutes: FastifyPluginAsyncZod<{ sql: Sql }> = async (app, { sql }) => {
  app.get(
    '/events',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['events'],
        summary: 'Every target’s events, newest first (paged with before_id)',
        description: 'The next page: `before_id` = the id of the last event of this page; a page shorter than `limit` is the last one.',
        querystring: timelineQuery,
        response: { 200: z.array(timelineEventOut) },
      },
    },
    async (req) => getTimeline(sql, req.query),
  )
}
