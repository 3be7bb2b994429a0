import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { AppError } from '../errors.js'
import { MAX_ID } from '../lib/input.schema.js'
import type { LossWindowSource } from '../targets/targets.repo.js'
import { listTargets } from '../targets/targets.service.js'
import { sumLastDay } from './badge.repo.js'

// A public status badge (opt-in per target with badge_public): state, 24 h uptime and mean latency,
// drawn as a small SVG for READMEs and wikis. Targets without the opt-in are 404, as if absent. The
// state is the API's (src/targets/target-state.ts), the same as GET /targets/{id} says.

const COLORS = { up: '#2e9e44', degraded: '#d49a00', down: '#d23f31', paused: '#8a8f98', unknown: '#8a8f98' }
const escXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
// Verdana 11px averages ~6.6 px per character: close enough for a badge.
const width = (s: string) => Math.round(s.length * 6.6 + 12)

/** `<id>.svg` → the id, within int4 like every id. */
const badgeFile = z
  .string()
  .regex(/^\d{1,10}\.svg$/, 'must be <id>.svg')
  .transform((f) => Number(f.slice(0, -4)))
  .pipe(z.number().int().min(1).max(MAX_ID))

export function renderBadge(label: string, message: string, color: string): string {
  const lw = width(label)
  const mw = width(message)
  const l = escXml(label)
  const m = escXml(message)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + mw}" height="20" role="img" aria-label="${l}: ${m}"><title>${l}: ${m}</title><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${color}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="${lw / 2}" y="14">${l}</text><text x="${lw + mw / 2}" y="14">${m}</text></g></svg>`
}

export const badgeRoutes: FastifyPluginAsyncZod<{ sql: Sql; lossWindow?: LossWindowSource }> = async (app, { sql, lossWindow }) => {
  app.get(
    '/badge/:file',
    { schema: { tags: ['badge'], summary: 'Public status badge (targets with badge_public only)', security: [], params: z.object({ file: badgeFile }) } },
    async (req, reply) => {
      const id = req.params.file
      const [t] = (await listTargets(sql, { ids: [id], limit: 1, offset: 0, sort: 'id' }, lossWindow)).rows
      if (!t || !t.badgePublic) throw new AppError(404, 'Target not found')
      const a = await sumLastDay(sql, id)
      const uptime = a.sent ? (100 * (a.received ?? 0)) / a.sent : null
      const avgMs = a.received ? (a.rttSum ?? 0) / a.received / 1000 : null
      const { state } = t
      const figures = [uptime === null ? null : `${uptime.toFixed(uptime >= 99.95 ? 0 : 2)}%`, avgMs === null ? null : `${avgMs < 10 ? avgMs.toFixed(2) : Math.round(avgMs)} ms`]
      const message = state === 'paused' || state === 'unknown' ? state : [state, ...figures.filter((x) => x !== null)].join(' ')
      return reply
        .type('image/svg+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=60')
        .send(renderBadge(t.name ?? t.address, message, COLORS[state]))
    },
  )
}
