import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql } from '../db/open.js'
import { AppError } from '../errors.js'
import { type AuthUser, authenticateBearer, jwtSignOptions, jwtVerifyOptions, requireAdminRole } from './auth.service.js'
import type { Role } from './users.repo.js'


declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; uid: number; role: Role }
    user: AuthUser
  }
}

export interface AuthOptions {
  sql: Sql
  secret: string
  expiresMin: number
}

const unauthorized = (detail: string) => new AppError(401, detail, { 'www-authenticate': 'Bearer' })

/**
 * Bearer authentication with a JWT (HS256 only, `exp` and `sub` required) or an API token (`pst_…`).
 * The user is read from the database on every request, so disabling a user or changing a role applies
 * at once, whatever tokens are still around.
 */
export const authPlugin = fp<AuthOptions>(async (app: FastifyInstance, opts) => {
  await app.register(fastifyJwt, {
    secret: opts.secret,
    sign: jwtSignOptions(opts.expiresMin),
    verify: jwtVerifyOptions,
  })

  app.decorate('authenticate', async (req: FastifyRequest) => {
    const header = req.headers.authorization
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!match) throw unauthorized('Missing credentials')
    const result = await authenticateBearer(opts.sql, match[1]!, (token) => app.jwt.verify<{ sub: string; uid: number }>(token))
    if (!result.user) throw unauthorized('Invalid token')
    req.user = result.user
  })

  app.decorate('requireAdmin', async (req: FastifyRequest, _reply: FastifyReply) => {
    requireAdminRole(req.user)
  })
})

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
    requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}
