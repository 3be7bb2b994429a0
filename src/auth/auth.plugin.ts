import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql } from '../db/open.js'
import { AppError } from '../errors.js'
import { TOKEN_PREFIX, findUserByToken } from './tokens.repo.js'
import { type Role, findUserById } from './users.repo.js'

export interface AuthUser {
  id: number
  username: string
  role: Role
  via: 'jwt' | 'api_token'
}

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
    sign: { algorithm: 'HS256', expiresIn: `${opts.expiresMin}m` },
    verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] },
  })

  app.decorate('authenticate', async (req: FastifyRequest) => {
    const header = req.headers.authorization
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!match) throw unauthorized('Missing credentials')
    const token = match[1]!
    if (token.startsWith(TOKEN_PREFIX)) {
      const user = await findUserByToken(opts.sql, token)
      if (!user) throw unauthorized('Invalid token')
      req.user = { id: user.id, username: user.username, role: user.role, via: 'api_token' }
      return
    }
    let payload: { sub: string; uid: number }
    try {
      payload = app.jwt.verify<{ sub: string; uid: number }>(token)
    } catch {
      throw unauthorized('Invalid token')
    }
    const user = typeof payload.uid === 'number' ? await findUserById(opts.sql, payload.uid) : null
    if (!user || user.disabled || user.username !== payload.sub) throw unauthorized('Invalid token')
    req.user = { id: user.id, username: user.username, role: user.role, via: 'jwt' }
  })

  app.decorate('requireAdmin', async (req: FastifyRequest, _reply: FastifyReply) => {
    if (req.user?.role !== 'admin') throw new AppError(403, 'This action requires the admin role')
  })
})

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
    requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}
