import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Sql } from '../db/open.js'
import { AppError } from '../errors.js'
import {
  apiTokenOut,
  idParams,
  loginBody,
  messageOut,
  tokenCreateBody,
  tokenResponse,
  userCreateBody,
  userOut,
  userUpdateBody,
} from './auth.schema.js'
import { accessClaims, addUser, changeUser, checkPassword, issueToken, listVisibleTokens, revokeVisibleToken, tokenJson, userJson } from './auth.service.js'
import { findUserById, listUsers } from './users.repo.js'

export interface AuthRoutesOptions {
  sql: Sql
  expiresMin: number
  /** Login attempts per minute per client address and username. */
  loginRateLimitPerMin: number
  /** Login attempts per minute in all, whatever the address and username. */
  loginRateLimitGlobalPerMin: number
}

const tooManyLogins = (ttlMs: number) => {
  const s = Math.max(1, Math.ceil(ttlMs / 1000))
  return new AppError(429, `Too many login attempts; retry in ${s} s`, { 'retry-after': String(s) })
}

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, opts) => {
  const { sql } = opts
  const changed = () => app.credentialWatch.changed()

  // Login attempts are limited per client address and username, so that one user's failures do not lock
  // out everyone else at that address (behind a proxy: everyone), and in all, so that a password spray
  // over many usernames or addresses stays bounded. The key needs the username, so the check runs once
  // the body is parsed and valid (preHandler): @fastify/rate-limit's route option runs at onRequest,
  // before there is a body. The per-user limit goes first: a locked-out user's retries are refused
  // without using up everyone's budget. In-memory, per process.
  await app.register(rateLimit, { global: false })
  const perUser = app.createRateLimit({
    max: opts.loginRateLimitPerMin,
    timeWindow: 60_000,
    // IPv6 clients by /64, as the plugin does: one host usually holds a whole prefix.
    keyGenerator: (req) => `${normalizeIP(req.ip)}|${(req.body as { username: string }).username.toLowerCase()}`,
  })
  const overall = app.createRateLimit({ max: opts.loginRateLimitGlobalPerMin, timeWindow: 60_000, keyGenerator: () => 'all' })
  const limitLogin = async (req: FastifyRequest) => {
    for (const limit of [perUser, overall]) {
      const r = await limit(req)
      if (!r.isAllowed && r.isExceeded) throw tooManyLogins(r.ttl)
    }
  }

  app.post(
    '/auth/login',
    {
      preHandler: limitLogin,
      schema: { tags: ['auth'], summary: 'Exchange a username and password for a bearer token', security: [], body: loginBody, response: { 200: tokenResponse } },
    },
    async (req) => {
      const user = await checkPassword(sql, req.body.username, req.body.password)
      if (!user) throw new AppError(401, 'Invalid credentials')
      const access_token = app.jwt.sign(accessClaims(user))
      return { access_token, token_type: 'bearer' as const, expires_in: opts.expiresMin * 60 }
    },
  )

  app.get(
    '/auth/me',
    { onRequest: [app.authenticate], schema: { tags: ['auth'], summary: 'The authenticated user', response: { 200: userOut.extend({ via: z.enum(['jwt', 'api_token']) }) } } },
    async (req) => {
      const u = await findUserById(sql, req.user.id)
      return { ...userJson(u!), via: req.user.via }
    },
  )

  // Users (admin only).
  app.get('/users', { onRequest: [app.authenticate, app.requireAdmin], schema: { tags: ['users'], response: { 200: z.array(userOut) } } }, async () =>
    (await listUsers(sql)).map(userJson),
  )

  app.post(
    '/users',
    { onRequest: [app.authenticate, app.requireAdmin], schema: { tags: ['users'], body: userCreateBody, response: { 201: userOut } } },
    async (req, reply) => reply.status(201).send(userJson(await addUser(sql, req.body))),
  )

  app.patch(
    '/users/:id',
    { onRequest: [app.authenticate, app.requireAdmin], schema: { tags: ['users'], params: idParams, body: userUpdateBody, response: { 200: userOut } } },
    async (req) => userJson(await changeUser(sql, req.user, req.params.id, req.body, changed)),
  )

  // API tokens: everyone manages their own; admins see and revoke all.
  app.get('/tokens', { onRequest: [app.authenticate], schema: { tags: ['tokens'], response: { 200: z.array(apiTokenOut) } } }, async (req) =>
    (await listVisibleTokens(sql, req.user)).map(tokenJson),
  )

  app.post(
    '/tokens',
    {
      onRequest: [app.authenticate],
      schema: { tags: ['tokens'], summary: 'Create an API token (shown once)', body: tokenCreateBody, response: { 201: apiTokenOut.extend({ token: z.string() }) } },
    },
    async (req, reply) => {
      const { token, record } = await issueToken(sql, req.user, req.body)
      return reply.status(201).send({ ...tokenJson(record), token })
    },
  )

  app.delete(
    '/tokens/:id',
    { onRequest: [app.authenticate], schema: { tags: ['tokens'], params: idParams, response: { 200: messageOut } } },
    async (req) => {
      await revokeVisibleToken(sql, req.user, req.params.id, changed)
      return { message: 'Token revoked', id: req.params.id }
    },
  )
}
