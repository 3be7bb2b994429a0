import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Sql } from '../db/open.js'
import { fleetRoutes } from '../fleet/fleet.routes.js'
import { projectRoot } from '../paths.js'

// The dashboard on the API's origin: web/dist (built by `npm run build`) served as static files, with
// the dashboard's own API route (/fleet/summary). Hashed files under /assets/ are cached for a year;
// index.html is revalidated so a rebuild shows at once. The build leaves a .br and a .gz copy of each
// asset (scripts/compress-assets.mjs): the client gets the copy its Accept-Encoding prefers, as it is
// (content-encoding and `Vary: accept-encoding` set, so the global @fastify/compress leaves the answer
// alone); a file without copies (a source map, index.html) is compressed on the fly as before.
//
// Client-side routes get index.html on a direct load or reload, but only below the dashboard's own
// first path segments, and only for GETs that accept HTML: nothing here can turn an API 404 into a
// page, and API routes are matched first, except a browser's page load of SPA_API_PATHS.

/** First path segments of the dashboard's client-side routes (web/src/app/app.tsx), plus `/`. */
export const SPA_ROOTS = ['login', 'target', 'add', 'admin', 'incidents', 'alerts', 'events', 'status', 'compare'] as const

/**
 * Dashboard routes whose paths are also GET routes of the API (the incidents page, an incident, the
 * events timeline). A browser loading the page (GET or HEAD, accepting HTML, no Authorization header)
 * gets the app; every other request, the dashboard's own fetches included, gets the API, matched by a
 * route constraint.
 */
export const SPA_API_PATHS = ['/incidents', '/incidents/:id', '/events'] as const

const PAGE_LOAD = 'pageLoad'
type ConstraintStrategy = Parameters<FastifyInstance['addConstraintStrategy']>[0]
type RouteStore = NonNullable<ReturnType<ReturnType<ConstraintStrategy['storage']>['get']>>
const pageLoadStrategy: ConstraintStrategy = {
  name: PAGE_LOAD,
  storage() {
    const routes = new Map<string, RouteStore>()
    return { get: (k: string) => routes.get(k) ?? null, set: (k: string, v: RouteStore) => void routes.set(k, v) }
  },
  deriveConstraint: (req) =>
    (req.method === 'GET' || req.method === 'HEAD') && !req.headers.authorization && String(req.headers.accept ?? '').includes('text/html') ? 'yes' : 'no',
  mustMatchWhenDerived: false,
}

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

  await app.register(fastifyStatic, { root: path.join(dist, 'assets'), prefix: '/assets/', maxAge: '365d', immutable: true, preCompressed: true })
  // index.html has two small inline scripts (the theme, set before the first paint, and the fleet's
  // early requests): the page's CSP allows exactly those scripts by their hashes, nothing else inline.
  const inlineHashes = inlineScriptHashes(readFileSync(path.join(dist, 'index.html'), 'utf8'))
  const sendIndex = (reply: FastifyReply) => {
    const csp = reply.getHeader('content-security-policy')
    if (typeof csp === 'string' && inlineHashes.length > 0) {
      reply.header('content-security-policy', csp.replace("script-src 'self'", `script-src 'self' ${inlineHashes.join(' ')}`))
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { cacheControl: false })
  }

  app.get('/', hide, async (_req, reply) => sendIndex(reply))
  if (!app.hasConstraintStrategy(PAGE_LOAD)) app.addConstraintStrategy(pageLoadStrategy)
  for (const url of SPA_API_PATHS) app.get(url, { ...hide, constraints: { [PAGE_LOAD]: 'yes' } }, async (_req, reply) => sendIndex(reply))
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
