import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { listSiteSummaries } from './sites.repo.js'
import { siteOut } from './sites.schema.js'

export const siteRoutes: FastifyPluginAsyncZod<{ sql: Sql }> = async (app, { sql }) => {
  app.get(
    '/sites',
    { onRequest: [app.authenticate], schema: { tags: ['sites'], summary: 'List the sites (vantage points) with their probes and targets', response: { 200: z.array(siteOut) } } },
    async () => listSiteSummaries(sql),
  )
}
