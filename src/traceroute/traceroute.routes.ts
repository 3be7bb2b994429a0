import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { targetIdParams } from '../targets/targets.schema.js'
import { createTracerouteRunner } from './runner.js'
import { createPathScheduler } from './path-scheduler.js'
import { getSchedule, pathDiffJson, pathHistoryJson, removeSchedule, setSchedule } from './path.service.js'
import {
  pathDiffOut,
  pathDiffQuery,
  pathHistoryOut,
  pathHistoryQuery,
  scheduleBody,
  scheduleOut,
  tracerouteHistoryQuery,
  tracerouteOut,
  tracerouteRunQuery,
} from './traceroute.schema.js'
import { createTracerouteService, tracerouteJson } from './traceroute.service.js'

export interface TracerouteRoutesOptions {
  sql: Sql
  /** The traceroute binary (config.traceroute.bin). */
  bin: string
  /** Runs at once (config.traceroute.concurrency). */
  concurrency: number
  /** Run the targets' schedules in this process (config.traceroute.scheduleEnabled; default off). */
  scheduleEnabled?: boolean
  schedulePollMs?: number
}

export const tracerouteRoutes: FastifyPluginAsyncZod<TracerouteRoutesOptions> = async (app, opts) => {
  const service = createTracerouteService({
    sql: opts.sql,
    runner: createTracerouteRunner({ bin: opts.bin }),
    concurrency: opts.concurrency,
    log: app.log,
  })
  const scheduler = opts.scheduleEnabled ? createPathScheduler({ sql: opts.sql, service, log: app.log, pollMs: opts.schedulePollMs ?? 5000 }) : null
  if (scheduler) app.addHook('onReady', async () => scheduler.start())
  // Running traceroutes would hold a closing server for up to their timeout.
  app.addHook('preClose', async () => {
    service.close()
    await scheduler?.stop()
  })
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

  app.get(
    '/targets/:id/traceroute-schedule',
    { onRequest: [app.authenticate], schema: { tags, summary: "The target's traceroute schedule (null when it has none)", params: targetIdParams, response: { 200: scheduleOut.nullable() } } },
    async (req) => getSchedule(opts.sql, req.params.id),
  )

  app.put(
    '/targets/:id/traceroute-schedule',
    {
      onRequest: [app.authenticate, app.requireAdmin],
      schema: {
        tags,
        summary: 'Run traceroute to the target on a schedule (path history); the first run is due at once',
        params: targetIdParams,
        body: scheduleBody,
        response: { 200: scheduleOut },
      },
    },
    async (req) => setSchedule(opts.sql, req.params.id, req.body, req.user.username),
  )

  app.delete(
    '/targets/:id/traceroute-schedule',
    {
      onRequest: [app.authenticate, app.requireAdmin],
      schema: { tags, summary: 'Stop the scheduled traceroutes (the runs stay)', params: targetIdParams, response: { 200: z.object({ message: z.string(), id: z.number().int() }) } },
    },
    async (req) => {
      await removeSchedule(opts.sql, req.params.id)
      return { message: 'Traceroute schedule removed', id: req.params.id }
    },
  )

  app.get(
    '/targets/:id/path-history',
    {
      onRequest: [app.authenticate],
      schema: {
        tags,
        summary: 'Traceroute runs over a window, oldest first, per hop: address, loss, mean RTT; and the distinct paths',
        params: targetIdParams,
        querystring: pathHistoryQuery,
        response: { 200: pathHistoryOut },
      },
    },
    async (req) => pathHistoryJson(opts.sql, req.params.id, req.query, new Date()),
  )

  app.get(
    '/targets/:id/path-diff',
    {
      onRequest: [app.authenticate],
      schema: { tags, summary: 'Two traceroute runs of the target hop by hop', params: targetIdParams, querystring: pathDiffQuery, response: { 200: pathDiffOut } },
    },
    async (req) => pathDiffJson(opts.sql, req.params.id, req.query.a, req.query.b),
  )
}
