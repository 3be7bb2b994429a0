import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { bearerToken } from '../auth/auth.plugin.js'
import type { LiveHub } from './hub.js'

/**
 * GET /live: Server-Sent Events for the dashboard. Events: `samples` (once a second: the last round of
 * every target probed in that second), `outage` (open/closed), `targets` (the target set changed, from
 * any process). Authenticated like every other route; since browsers' EventSource cannot send headers,
 * the token may also come as `?access_token=`. The credential is re-checked while the stream is open
 * (app.credentialWatch): once it is revoked, expired, or its user disabled or changed, the stream sends
 * `unauthorized` and ends; the client's reconnection then gets a 401.
 */
export const liveRoutes: FastifyPluginAsyncZod<{ hub: LiveHub; heartbeatMs?: number }> = async (app, { hub, heartbeatMs = 15_000 }) => {
  app.get(
    '/live',
    {
      // An event stream must reach the browser as each event is written, never held in a compressor.
      compress: false,
      onRequest: [
        async (req) => {
          const q = req.query as { access_token?: string }
          if (!req.headers.authorization && q.access_token) req.headers.authorization = `Bearer ${q.access_token}`
        },
        app.authenticate,
      ],
      schema: {
        tags: ['live'],
        summary: 'Live updates (text/event-stream)',
        querystring: z.object({ access_token: z.string().optional() }),
      },
    },
    async (req, reply) => {
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // let proxies stream it
      })
      res.write(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ user: req.user.username, time: new Date().toISOString() })}\n\n`)
      const unsubscribe = hub.subscribe((e) => {
        res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      })
      const heartbeat = setInterval(() => res.write(`: keep-alive ${Date.now()}\n\n`), heartbeatMs)
      // authenticate has just accepted this header, so the token is there.
      const unwatch = app.credentialWatch.watch(bearerToken(req.headers.authorization)!, () => {
        close()
        res.end(`event: unauthorized\ndata: ${JSON.stringify({ type: 'unauthorized', detail: 'Invalid token' })}\n\n`)
      })
      const close = () => {
        clearInterval(heartbeat)
        unsubscribe()
        unwatch()
      }
      req.raw.on('close', close)
      res.on('error', close)
    },
  )
}
