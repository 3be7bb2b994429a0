import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { PROBE_TOKEN_REQUIRED_DETAIL } from '../auth/auth.service.js'
import { AppError } from '../errors.js'
import {
  SAMPLES_MAX_COMPRESSED_BYTES,
  SAMPLES_MAX_JSON_BYTES,
  heartbeatBody,
  heartbeatOut,
  leaveBody,
  samplesBody,
  samplesOut,
} from './agent.schema.js'
import { type AgentDeps, type ProbeCredential, agentHeartbeat, agentLeave, ingestBatch } from './agent.service.js'

// The remote probe agent's routes (`pingscope probe --server`). Only a probe token reaches them, and a
// probe token reaches nothing else: auth.plugin.ts's authenticate enforces both for every route.

const gunzipAsync = promisify(gunzip)

/** The probe token's site (the authenticate hook has let only probe tokens through to /probe/*). */
function probeOf(req: FastifyRequest): ProbeCredential {
  if (!req.user.probe) throw new AppError(403, PROBE_TOKEN_REQUIRED_DETAIL)
  return req.user.probe
}

/**
 * The body of POST /probe/samples: gzip (Content-Encoding: gzip, as the agent sends it) or plain JSON.
 * The compressed body is bounded by the route's bodyLimit, the JSON inside it by maxOutputLength (zlib
 * stops there: a gzip bomb costs at most that much memory and is answered 413).
 */
async function parseSamplesBody(req: FastifyRequest, raw: Buffer): Promise<unknown> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  let json: Buffer
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      json = await gunzipAsync(raw, { maxOutputLength: SAMPLES_MAX_JSON_BYTES })
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new AppError(413, `the decompressed body is larger than ${SAMPLES_MAX_JSON_BYTES / 1024 / 1024} MB: send smaller batches`)
      }
      throw new AppError(400, 'the body is not valid gzip')
    }
  } else if (encoding === 'identity') {
    json = raw
  } else {
    throw new AppError(415, `Content-Encoding ${encoding.slice(0, 40)} is not supported: send gzip or identity`)
  }
  try {
    return JSON.parse(json.toString('utf8')) as unknown
  } catch {
    throw new AppError(400, 'the body is not valid JSON')
  }
}

export const agentRoutes: FastifyPluginAsyncZod<AgentDeps> = async (app, deps) => {
  const tags = ['probe agent']

  app.post(
    '/probe/heartbeat',
    {
      onRequest: [app.authenticate],
      schema: {
        tags,
        summary: "A remote agent's heartbeat: renews the leases it holds, claims its share, says what to give up",
        body: heartbeatBody,
        response: { 200: heartbeatOut },
      },
    },
    async (req) => agentHeartbeat(deps, probeOf(req), req.body),
  )

  app.post(
    '/probe/leave',
    {
      onRequest: [app.authenticate],
      schema: {
        tags,
        summary: 'A clean stop of a remote agent: its leases released, its probe row marked stopped',
        body: leaveBody.extend({ idle_ms: z.number().int().min(0).max(60_000).default(0).describe('how long before this request it stopped probing') }),
        response: { 200: z.object({ message: z.string() }) },
      },
    },
    async (req) => {
      await agentLeave(deps.sql, probeOf(req), req.body.session, req.body.idle_ms)
      return { message: 'left the fleet' }
    },
  )

  // Its own scope: the gzip-aware JSON parser and the 8 MB body limit apply to this route only.
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json')
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: SAMPLES_MAX_COMPRESSED_BYTES }, async (req: FastifyRequest, raw: Buffer) =>
      parseSamplesBody(req, raw),
    )
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/probe/samples',
      {
        onRequest: [scope.authenticate],
        bodyLimit: SAMPLES_MAX_COMPRESSED_BYTES,
        schema: {
          tags,
          summary: 'A batch of samples (and outage transitions) measured by a remote agent; idempotent by batch_id',
          description: `Content-Encoding: gzip (or none). At most ${SAMPLES_MAX_COMPRESSED_BYTES / 1024 / 1024} MB as sent and ${SAMPLES_MAX_JSON_BYTES / 1024 / 1024} MB of JSON.`,
          body: samplesBody,
          response: { 200: samplesOut },
        },
      },
      async (req) => ingestBatch(deps, probeOf(req), req.body),
    )
  })
}
