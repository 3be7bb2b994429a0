import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import type { LossWindowSource } from '../targets/targets.repo.js'
import { publicStatusOut, statusPageBody, statusPageDeletedOut, statusPageOut, statusPageParams } from './status-page.schema.js'
import { listStatusPagesJson, publicStatus, putStatusPage, removeStatusPage } from './status-page.service.js'

// Status pages: everyone signed in lists them, admins publish and unpublish; the page itself is
// public (no token), like the badges, and answers 404 for any tag without a published page.

export const statusPageRoutes: FastifyPluginAsyncZod<{ sql: Sql; lossWindow?: LossWindowSource }> = async (app, { sql, lossWindow }) => {
  const read = { onRequest: [app.authenticate] }
  const write = { onRequest: [app.authenticate, app.requireAdmin] }
  const tags = ['status pages']

  app.get('/status-pages', { ...read, schema: { tags, summary: 'List the published status pages', response: { 200: z.array(statusPageOut) } } }, async () => listStatusPagesJson(sql))

  app.put(
    '/status-pages/:tag',
    { ...write, schema: { tags, summary: "Publish a tag's status page, or change its title and description", params: statusPageParams, body: statusPageBody, response: { 200: statusPageOut, 201: statusPageOut } } },
    async (req, reply) => {
      const { created, page } = await putStatusPage(sql, req.params.tag, req.body)
      return reply.status(created ? 201 : 200).send(page)
    },
  )

  app.delete('/status-pages/:tag', { ...write, schema: { tags, summary: 'Unpublish a status page (the targets stay)', params: statusPageParams, response: { 200: statusPageDeletedOut } } }, async (req) => {
    await removeStatusPage(sql, req.params.tag)
    return { message: 'Status page deleted', tag: req.params.tag }
  })

  app.get(
    '/public/status/:tag',
    {
      schema: {
        tags,
        summary: 'Public status page of a tag (published pages only)',
        description: 'Current state, 90 daily uptime bars per target and the incidents of the last 90 days. Cached for 60 s.',
        security: [],
        params: statusPageParams,
        response: { 200: publicStatusOut },
      },
    },
    async (req, reply) => {
      const body = await publicStatus(sql, req.params.tag, lossWindow)
      return reply.header('cache-control', 'public, max-age=60').send(body)
    },
  )
}
