import rateLimit from '@fastify/rate-limit'
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
import { hashPassword, verifyPassword } from './passwords.js'
import { type ApiToken, createToken, listTokens, revokeToken } from './tokens.repo.js'
import { type User, createUser, findUserByUsername, listUsers, updateUser } from './users.repo.js'

export interface AuthRoutesOptions {
  sql: Sql
  expiresMin: number
  loginRateLimitPerMin: number
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const userJson = (u: User) => ({ id: u.id, username: u.username, role: u.role, disabled: u.disabled, created_at: u.createdAt.toISOString(), updated_at: u.updatedAt.toISOString() })
const tokenJson = (t: ApiToken) => ({
  id: t.id,
  user_id: t.userId,
  name: t.name,
  prefix: t.prefix,
  created_at: t.createdAt.toISOString(),
  last_used_at: iso(t.lastUsedAt),
  expires_at: iso(t.expiresAt),
  revoked_at: iso(t.revokedAt),
})

// A fixed hash to verify against when the user does not exist, so timing does not reveal usernames.
const DUMMY_HASH = await hashPassword('pingscope-timing-equaliser')

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, opts) => {
  const { sql } = opts
  await app.register(rateLimit, { global: false })

  app.post(
    '/auth/login',
    {
      schema: { tags: ['auth'], summary: 'Exchange a username and password for a bearer token', security: [], body: loginBody, response: { 200: tokenResponse } },
      config: {
        rateLimit: {
          max: opts.loginRateLimitPerMin,
          timeWindow: '1 minute',
          keyGenerator: (req) => `${req.ip}|${String((req.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}`,
          errorResponseBuilder: (_req, ctx) => new AppError(429, `Too many login attempts; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
        },
      },
    },
    async (req) => {
      const user = await findUserByUsername(sql, req.body.username)
      const ok = await verifyPassword(req.body.password, user?.passwordHash ?? DUMMY_HASH)
      if (!user || !ok || user.disabled) throw new AppError(401, 'Invalid credentials')
      const access_token = app.jwt.sign({ sub: user.username, uid: user.id, role: user.role })
      return { access_token, token_type: 'bearer' as const, expires_in: opts.expiresMin * 60 }
    },
  )

  app.get(
    '/auth/me',
    { onRequest: [app.authenticate], schema: { tags: ['auth'], summary: 'The authenticated user', response: { 200: userOut.extend({ via: z.enum(['jwt', 'api_token']) }) } } },
    async (req) => {
      const [u] = await sql<User[]>`select id, username, role, disabled, created_at, updated_at from users where id = ${req.user.id}`
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
    async (req, reply) => {
      const user = await createUser(sql, { username: req.body.username, passwordHash: await hashPassword(req.body.password), role: req.body.role })
      if (!user) throw new AppError(409, `User ${req.body.username} already exists`)
      return reply.status(201).send(userJson(user))
    },
  )

  app.patch(
    '/users/:id',
    { onRequest: [app.authenticate, app.requireAdmin], schema: { tags: ['users'], params: idParams, body: userUpdateBody, response: { 200: userOut } } },
    async (req) => {
      const { id } = req.params
      if (id === req.user.id && (req.body.role === 'viewer' || req.body.disabled === true)) {
        throw new AppError(400, 'You cannot demote or disable yourself')
      }
      const user = await updateUser(sql, id, {
        ...(req.body.password ? { passwordHash: await hashPassword(req.body.password) } : {}),
        ...(req.body.role ? { role: req.body.role } : {}),
        ...(req.body.disabled !== undefined ? { disabled: req.body.disabled } : {}),
      })
      if (!user) throw new AppError(404, 'User not found')
      return userJson(user)
    },
  )

  // API tokens: everyone manages their own; admins see and revoke all.
  app.get('/tokens', { onRequest: [app.authenticate], schema: { tags: ['tokens'], response: { 200: z.array(apiTokenOut) } } }, async (req) =>
    (await listTokens(sql, req.user.role === 'admin' ? null : req.user.id)).map(tokenJson),
  )

  app.post(
    '/tokens',
    {
      onRequest: [app.authenticate],
      schema: { tags: ['tokens'], summary: 'Create an API token (shown once)', body: tokenCreateBody, response: { 201: apiTokenOut.extend({ token: z.string() }) } },
    },
    async (req, reply) => {
      const expiresAt = req.body.expires_in_days ? new Date(Date.now() + req.body.expires_in_days * 86_400_000) : null
      const { token, record } = await createToken(sql, { userId: req.user.id, name: req.body.name, expiresAt })
      return reply.status(201).send({ ...tokenJson(record), token })
    },
  )

  app.delete(
    '/tokens/:id',
    { onRequest: [app.authenticate], schema: { tags: ['tokens'], params: idParams, response: { 200: messageOut } } },
    async (req) => {
      const ok = await revokeToken(sql, req.params.id, req.user.role === 'admin' ? null : req.user.id)
      if (!ok) throw new AppError(404, 'Token not found')
      return { message: 'Token revoked', id: req.params.id }
    },
  )
}
