import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import {
  deletedOut,
  idParams,
  ruleCreateBody,
  ruleOut,
  ruleUpdateBody,
  silenceCreateBody,
  silenceListQuery,
  silenceOut,
  silenceUpdateBody,
} from './alerts.schema.js'
import { channelCreateBody, channelCreatedOut, channelOut, channelUpdateBody } from './channels.schema.js'
import { changeChannel, createChannel, deleteChannel, getChannelJson, listChannelsJson } from './channels.service.js'
import { changeRule, createRule, deleteRule, getRule, listRulesJson, ruleJson } from './rules.service.js'
import { changeSilence, createSilence, deleteSilence, getSilence, listSilencesJson, silenceJson } from './silences.service.js'

// Rules, channels and silences: everyone signed in reads, admins change (as for targets).

export interface AlertRoutesOptions {
  sql: Sql
  /** ALERTS_GROUP_WAIT_S: the wait of the resolves a rule's deletion queues. */
  groupWaitMs: number
}

export const alertRoutes: FastifyPluginAsyncZod<AlertRoutesOptions> = async (app, { sql, groupWaitMs }) => {
  const read = { onRequest: [app.authenticate] }
  const write = { onRequest: [app.authenticate, app.requireAdmin] }

  {
    const tags = ['alert rules']
    app.get('/alerts/rules', { ...read, schema: { tags, summary: 'List alert rules', response: { 200: z.array(ruleOut) } } }, async () => listRulesJson(sql))
    app.post('/alerts/rules', { ...write, schema: { tags, summary: 'Create an alert rule', body: ruleCreateBody, response: { 201: ruleOut } } }, async (req, reply) =>
      reply.status(201).send(await createRule(sql, req.body, req.user.username)),
    )
    app.get('/alerts/rules/:id', { ...read, schema: { tags, params: idParams, response: { 200: ruleOut } } }, async (req) => ruleJson(await getRule(sql, req.params.id)))
    app.patch('/alerts/rules/:id', { ...write, schema: { tags, summary: 'Change a rule (absent fields keep their value)', params: idParams, body: ruleUpdateBody, response: { 200: ruleOut } } }, async (req) =>
      changeRule(sql, req.params.id, req.body),
    )
    app.delete('/alerts/rules/:id', { ...write, schema: { tags, summary: 'Delete a rule; its open incidents close', params: idParams, response: { 200: deletedOut } } }, async (req) => {
      await deleteRule(sql, req.params.id, { groupWaitMs, now: new Date() })
      return { message: 'Rule deleted', id: req.params.id }
    })
  }

  {
    const tags = ['alert channels']
    app.get('/alerts/channels', { ...read, schema: { tags, summary: 'List notification channels (secrets masked)', response: { 200: z.array(channelOut) } } }, async () => listChannelsJson(sql))
    app.post('/alerts/channels', { ...write, schema: { tags, summary: 'Create a channel (a generated webhook secret is shown once)', body: channelCreateBody, response: { 201: channelCreatedOut } } }, async (req, reply) =>
      reply.status(201).send(await createChannel(sql, req.body)),
    )
    app.get('/alerts/channels/:id', { ...read, schema: { tags, params: idParams, response: { 200: channelOut } } }, async (req) => getChannelJson(sql, req.params.id))
    app.patch('/alerts/channels/:id', { ...write, schema: { tags, summary: 'Change a channel (config is merged: absent keys keep their value)', params: idParams, body: channelUpdateBody, response: { 200: channelOut } } }, async (req) =>
      changeChannel(sql, req.params.id, req.body),
    )
    app.delete('/alerts/channels/:id', { ...write, schema: { tags, summary: 'Delete a channel and its queued notifications', params: idParams, response: { 200: deletedOut } } }, async (req) => {
      await deleteChannel(sql, req.params.id)
      return { message: 'Channel deleted', id: req.params.id }
    })
  }

  {
    const tags = ['silences']
    app.get('/alerts/silences', { ...read, schema: { tags, summary: 'List silences (maintenance windows)', querystring: silenceListQuery, response: { 200: z.array(silenceOut) } } }, async (req, reply) => {
      const { items, total } = await listSilencesJson(sql, req.query, new Date())
      void reply.header('x-total-count', String(total))
      return items
    })
    app.post('/alerts/silences', { ...write, schema: { tags, summary: 'Silence a target or a tag for a while', body: silenceCreateBody, response: { 201: silenceOut } } }, async (req, reply) =>
      reply.status(201).send(await createSilence(sql, req.body, req.user.username, new Date())),
    )
    app.get('/alerts/silences/:id', { ...read, schema: { tags, params: idParams, response: { 200: silenceOut } } }, async (req) => silenceJson(await getSilence(sql, req.params.id), new Date()))
    app.patch('/alerts/silences/:id', { ...write, schema: { tags, summary: 'Change a silence (e.g. end it early)', params: idParams, body: silenceUpdateBody, response: { 200: silenceOut } } }, async (req) =>
      changeSilence(sql, req.params.id, req.body, new Date()),
    )
    app.delete('/alerts/silences/:id', { ...write, schema: { tags, params: idParams, response: { 200: deletedOut } } }, async (req) => {
      await deleteSilence(sql, req.params.id)
      return { message: 'Silence deleted', id: req.params.id }
    })
  }
}
