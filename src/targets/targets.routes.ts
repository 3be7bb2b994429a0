import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import type { LossWindowSource } from './targets.repo.js'
import {
  targetCreateBody,
  targetIdParams,
  targetListQuery,
  targetOut,
  targetStatusOut,
  targetUpdateBody,
} from './targets.schema.js'
import {
  type ResolveHost,
  createTarget,
  deleteTarget,
  getTargetListed,
  listTargets,
  resolveWithDns,
  setTargetEnabled,
  targetJson,
  updateTarget,
} from './targets.service.js'

/**
 * `lossWindow`: every target's loss window, shared by the routes of this process for a few seconds
 * (src/app.ts), so that the list, a target and a badge read one figure; without it each request reads
 * its own.
 */
export const targetRoutes: FastifyPluginAsyncZod<{ sql: Sql; resolveHost?: ResolveHost; lossWindow?: LossWindowSource }> = async (
  app,
  { sql, resolveHost = resolveWithDns, lossWindow },
) => {
  const read = { onRequest: [app.authenticate] }
  const write = { onRequest: [app.authenticate, app.requireAdmin] }
  const tags = ['targets']

  app.get('/targets/', { ...read, schema: { tags, summary: 'List targets with state and last sample', querystring: targetListQuery, response: { 200: z.array(targetOut) } } }, async (req, reply) => {
    const { rows, total } = await listTargets(sql, req.query, lossWindow)
    void reply.header('x-total-count', String(total))
    return rows.map(targetJson)
  })

  app.post('/targets/', { ...write, schema: { tags, summary: 'Start tracking an address', body: targetCreateBody, response: { 200: targetStatusOut } } }, async (req) => {
    const t = await createTarget(sql, req.body, req.user.username, resolveHost)
    return { message: `Started tracking ${t.address}${t.resolvedFrom ? ` (resolved from ${t.resolvedFrom})` : ''}`, id: t.id }
  })

  app.get('/targets/:id', { ...read, schema: { tags, params: targetIdParams, response: { 200: targetOut } } }, async (req) => targetJson(await getTargetListed(sql, req.params.id, lossWindow)))

  app.patch('/targets/:id', { ...write, schema: { tags, summary: 'Change a target (a new frequency applies from the next round)', params: targetIdParams, body: targetUpdateBody, response: { 200: targetOut } } }, async (req) => {
    await updateTarget(sql, req.params.id, req.body, req.user.username)
    return targetJson(await getTargetListed(sql, req.params.id, lossWindow))
  })

  app.delete('/targets/:id', { ...write, schema: { tags, params: targetIdParams, response: { 200: targetStatusOut } } }, async (req) => {
    await deleteTarget(sql, req.params.id, req.user.username)
    return { message: 'Target deleted', id: req.params.id }
  })

  app.post('/targets/:id/pause', { ...write, schema: { tags, params: targetIdParams, response: { 200: targetStatusOut } } }, async (req) => {
    await setTargetEnabled(sql, req.params.id, false, req.user.username)
    return { message: 'Tracking paused', id: req.params.id }
  })

  app.post('/targets/:id/resume', { ...write, schema: { tags, params: targetIdParams, response: { 200: targetStatusOut } } }, async (req) => {
    await setTargetEnabled(sql, req.params.id, true, req.user.username)
    return { message: 'Tracking resumed', id: req.params.id }
  })
}
