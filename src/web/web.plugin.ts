import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Sql } from '../db/open.js'
import { fleetRoutes } from '../fleet/fleet.routes.js'
import { projectRoot } from '../paths.js'

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
  // index.html has one small inline script (the theme, set before the first paint): the page's CSP
  // allows exactly that script by its hash, nothing else inline.
  const inlineHashes = inlineScriptHashes(readFileSync(path.join(dist, 'index.html'), 'utf8'))
  const sendIndex = (reply: FastifyReply) => {
    const csp = reply.getHeader('content-security-policy')
    if (typeof csp === 'string' && inlineHashes.length > 0) {
      reply.header('content-security-policy', csp.replace("script-src 'self'", `script-src 'self' ${inlineHashes.join(' ')}`))
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { cacheControl: false })
  }

  app.get('/', hide, async (_req, reply) => sendIndex(reply))
  app.get('/*', hide, async (req, reply) => {
    const first = req.url.split('?')[0]!.split('/')[1] ?? ''
    const wantsHtml = req.headers.accept?.includes('text/html') ?? false
    if (!wantsHtml || !(SPA_ROOTS as readonly string[]).includes(first)) return reply.status(404).send({ detail: 'Not Found' })
    return sendIndex(reply)
  })
}

/** CSP source expressions ('sha256-…') of the inline scripts of an HTML page. */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`,
  )
}
