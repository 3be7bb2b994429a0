import { existsSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Sql } from '../db/open.js'
import { projectRoot } from '../paths.js'
import { fleetRoutes } from './fleet.routes.js'

// The dashboard on the API's origin: web/dist (built by `npm run build`) served as static files, with
// the dashboard's own API route (/fleet/summary). Hashed files under /assets/ are cached for a year;
// index.html is revalidated so a rebuild shows at once.
//
// Client-side routes get index.html on a direct load or reload, but only below the dashboard's own
// first path segments, and only for GETs that accept HTML: nothing here can shadow an API route
// (those are matched first anyway) or turn an API 404 into a page.

/** First path segments of the dashboard's client-side routes (web/src/app/app.tsx), plus `/`. */
export const SPA_ROOTS = ['login', 'target', 'add', 'admin'] as const

export interface WebPluginOptions {
  sql: Sql
  /** The built dashboard (default: <project>/web/dist). */
  distDir?: string
}

const NOT_BUILT =
  'pingscope: the web dashboard is not built.\n\nRun `npm run build` (it builds web/ into web/dist), then restart `pingscope serve`.\n' +
  'The API works without it: see /docs.\n'

export const webPlugin: FastifyPluginAsyncZod<WebPluginOptions> = async (app, opts) => {
  await app.register(fleetRoutes, { sql: opts.sql })

  const dist = opts.distDir ?? path.join(projectRoot(), 'web', 'dist')
  const hide = { schema: { hide: true } }
  if (!existsSync(path.join(dist, 'index.html'))) {
    app.get('/', hide, async (_req, reply) => reply.type('text/plain; charset=utf-8').send(NOT_BUILT))
    return
  }

  await app.register(fastifyStatic, { root: path.join(dist, 'assets'), prefix: '/assets/', maxAge: '365d', immutable: true })
  const sendIndex = (reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { cacheControl: false })

  app.get('/', hide, async (_req, reply) => sendIndex(reply))
  app.get('/*', hide, async (req, reply) => {
    const first = req.url.split('?')[0]!.split('/')[1] ?? ''
    const wantsHtml = req.headers.accept?.includes('text/html') ?? false
    if (!wantsHtml || !(SPA_ROOTS as readonly string[]).includes(first)) return reply.status(404).send({ detail: 'Not Found' })
    return sendIndex(reply)
  })
}
