import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { targetIdParams } from '../targets/targets.schema.js'
import { createTracerouteRunner } from './runner.js'
import { tracerouteHistoryQuery, tracerouteOut, tracerouteRunQuery } from './traceroute.schema.js'
import { createTracerouteService, tracerouteJson } from './traceroute.service.js'

export interface TracerouteRoutesOptions {
  sql: Sql
  /** The traceroute binary (config.traceroute.bin). */
  bin: string
  /** Runs at once (config.traceroute.concurrency). */
  concurrency: number
}

export const tracerouteRoutes: FastifyPluginAsyncZod<TracerouteRoutesOptions> = async (app, opts) => {
  const service = createTracerouteService({
    sql: opts.sql,
    runner: createTracerouteRunner({ bin: opts.bin }),
    concurrency: opts.concurrency,
    log: app.log,
  })
  // Running traceroutes would hold a closing server for up to their timeout.
  app.addHook('preClose', async () => service.close())
  const tags = ['traceroute']

  app.post(
    '/targets/:id/traceroute',
    {
      onRequest: [app.authenticate, app.requireAdmin],
      schema: {
        tags,
        summary: 'Run traceroute to the target now, store the result, and flag a path change',
        description:
          'Runs the system traceroute (-n -q 1). 503 when the binary is missing, the run times out, fails, or too many run at once (a request waits in a short queue for at most its timeout).',
        params: targetIdParams,
        querystring: tracerouteRunQuery,
        response: { 200: tracerouteOut },
      },
    },
    async (req) => tracerouteJson(await service.run(req.params.id, { maxHops: req.query.max_hops, timeoutS: req.query.timeout }, req.user.username)),
  )

  app.get(
    '/targets/:id/traceroutes',
    {
      onRequest: [app.authenticate],
      schema: { tags, summary: 'Stored traceroutes of the target, newest first', params: targetIdParams, querystring: tracerouteHistoryQuery, response: { 200: z.array(tracerouteOut) } },
    },
    async (req) => (await service.history(req.params.id, req.query.limit)).map(tracerouteJson),
  )
}
