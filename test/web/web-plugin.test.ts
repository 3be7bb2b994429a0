// The dashboard's static serving (src/web/web.plugin.ts) without a database: index.html for the
// dashboard's own routes when a browser asks for a page, hashed assets with a long cache, never a page
// instead of an API answer, and a hint at `/` when the dashboard has not been built.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../src/db/open.js'
import { AppError } from '../../src/errors.js'
import { SPA_ROOTS, webPlugin } from '../../src/web/web.plugin.js'

async function appWith(distDir: string): Promise<FastifyInstance> {
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ detail: 'Not Found' }))
  app.decorate('authenticate', async () => {
    throw new AppError(401, 'Missing credentials')
  })
  app.setErrorHandler((err, _req, reply) => reply.status(err instanceof AppError ? err.status : 500).send({ detail: (err as Error).message }))
  // An API route the dashboard must never shadow.
  app.get('/targets/:id', async () => ({ api: true }))
  // API routes on the same paths as dashboard pages (SPA_API_PATHS).
  app.get('/incidents', async () => ({ api: 'incidents' }))
  app.get('/incidents/:id', async () => ({ api: 'incident' }))
  app.get('/events', async () => ({ api: 'events' }))
  await app.register(webPlugin, { sql: null as unknown as Sql, distDir })
  await app.ready()
  return app
}

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }

describe('web plugin', () => {
  const dist = mkdtempSync(path.join(os.tmpdir(), 'pingscope-web-dist-'))
  let app: FastifyInstance
  let bare: FastifyInstance

  beforeAll(async () => {
    mkdirSync(path.join(dist, 'assets'))
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><div id="root"></div>')
    writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)')
    app = await appWith(dist)
    bare = await appWith(path.join(dist, 'missing'))
  })
  afterAll(async () => {
    await app.close()
    await bare.close()
    rmSync(dist, { recursive: true, force: true })
  })

  it('serves index.html at / and for a reload of any dashboard route, revalidated', async () => {
    for (const url of ['/', '/login', '/target/12', '/add', '/admin', '/target/12?x=1', '/alerts', '/alerts?tab=channels', '/incidents', '/incidents?state=all&severity=critical', '/incidents/7', '/events', '/events?type=outage_open,outage_close&range=7d', '/compare?ids=3,17', '/status/core']) {
      const res = await app.inject({ url, headers: html })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(res.body).toContain('<div id="root">')
    }
    expect(SPA_ROOTS).toEqual(['login', 'target', 'add', 'admin', 'incidents', 'alerts', 'events', 'status', 'compare'])
  })

  it('serves hashed assets for a year', async () => {
    const res = await app.inject({ url: '/assets/index-abc123.js' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/javascript/)
    expect(res.headers['cache-control']).toContain('immutable')
    expect((await app.inject({ url: '/assets/nope.js' })).statusCode).toBe(404)
    expect((await app.inject({ url: '/assets/../index.html' })).statusCode).not.toBe(200)
  })

  it('never answers an API path or a non-page request with the dashboard', async () => {
    // API routes win, whatever the Accept header.
    expect((await app.inject({ url: '/targets/3', headers: html })).json()).toEqual({ api: true })
    // Unknown paths outside the dashboard's routes stay the API's 404, even for a browser.
    for (const url of ['/targets/3/nope', '/nope', '/docs/nope', '/fleet']) {
      const res = await app.inject({ url, headers: html })
      expect(res.statusCode, url).toBe(404)
      expect(res.json()).toEqual({ detail: 'Not Found' })
    }
    // A dashboard path asked for as JSON is not a page either.
    const json = await app.inject({ url: '/target/3', headers: { accept: 'application/json' } })
    expect(json.statusCode).toBe(404)
    expect(json.json()).toEqual({ detail: 'Not Found' })
    // Pages on the API's own paths (GET /incidents, /incidents/:id, /events): only a browser's page load
    // gets the app; the dashboard's fetches, API clients and anything sending credentials get the API.
    for (const url of ['/incidents', '/incidents?state=open', '/incidents/7', '/events', '/events?type=outage_open,outage_close&range=7d']) {
      for (const headers of [{}, { accept: '*/*' }, { accept: 'application/json' }, { ...html, authorization: 'Bearer pst_x' }]) {
        const res = await app.inject({ url, headers })
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(200)
        expect(res.json()).toEqual({ api: url.startsWith('/incidents/') ? 'incident' : url.startsWith('/events') ? 'events' : 'incidents' })
      }
    }
    expect((await app.inject({ method: 'HEAD', url: '/incidents', headers: html })).headers['content-type']).toMatch(/^text\/html/)
    expect((await app.inject({ method: 'POST', url: '/incidents', headers: html })).statusCode).toBe(404)
    // Only GET (and HEAD) get pages.
    expect((await app.inject({ method: 'POST', url: '/login', headers: html })).statusCode).toBe(404)
  })

  it('keeps /fleet/summary authenticated', async () => {
    const res = await app.inject({ url: '/fleet/summary' })
    expect(res.statusCode).toBe(401)
  })

  it('says how to build the dashboard when web/dist is missing, and the API still answers', async () => {
    const res = await bare.inject({ url: '/', headers: html })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('npm run build')
    expect((await bare.inject({ url: '/targets/3' })).json()).toEqual({ api: true })
    expect((await bare.inject({ url: '/target/3', headers: html })).statusCode).toBe(404)
  })
})
