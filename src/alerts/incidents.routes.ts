import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { idParams, incidentDetailOut, incidentListQuery, incidentNoteBody, incidentOut } from './alerts.schema.js'
import { acknowledge, addNote, getIncidentDetail, listIncidentsJson } from './incidents.service.js'

// Incidents: everyone signed in reads; admins acknowledge and add notes.

export const incidentRoutes: FastifyPluginAsyncZod<{ sql: Sql }> = async (app, { sql }) => {
  const read = { onRequest: [app.authenticate] }
  const write = { onRequest: [app.authenticate, app.requireAdmin] }
  const tags = ['incidents']

  app.get('/incidents', { ...read, schema: { tags, summary: 'Open incidents and history, newest first', querystring: incidentListQuery, response: { 200: z.array(incidentOut) } } }, async (req, reply) => {
    const { items, total } = await listIncidentsJson(sql, req.query, new Date())
    void reply.header('x-total-count', String(total))
    return items
  })

  app.get('/incidents/:id', { ...read, schema: { tags, summary: 'An incident with its notifications', params: idParams, response: { 200: incidentDetailOut } } }, async (req) =>
    getIncidentDetail(sql, req.params.id, new Date()),
  )

  app.post('/incidents/:id/ack', { ...write, schema: { tags, summary: 'Acknowledge an incident (the first acknowledgement is kept)', params: idParams, response: { 200: incidentOut } } }, async (req) =>
    acknowledge(sql, req.params.id, req.user.username, new Date()),
  )

  app.post('/incidents/:id/notes', { ...write, schema: { tags, summary: 'Add a note to an incident', params: idParams, body: incidentNoteBody, response: { 200: incidentOut } } }, async (req) =>
    addNote(sql, req.params.id, req.user.username, req.body.text, new Date()),
  )
}
