import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql } from '../db/open.js'
import { AppError } from '../errors.js'
import {
  type AccessClaims,
  type AuthUser,
  PROBE_ONLY_DETAIL,
  PROBE_ROUTE_PREFIX,
  PROBE_TOKEN_REQUIRED_DETAIL,
  type VerifyJwt,
  authenticateBearer,
  jwtSignOptions,
  jwtVerifyOptions,
  requireAdminRole,
} from './auth.service.js'
import { type CredentialWatch, createCredentialWatch } from './credential-watch.js'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims
    user: AuthUser
  }
}

export interface AuthOptions {
  sql: Sql
  secret: string
  expiresMin: number
}

const unauthorized = (detail: string) => new AppError(401, detail, { 'www-authenticate': 'Bearer' })

/** The credential in an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  return (header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined) ?? null
}

/**
 * Bearer authentication with a JWT (HS256 only, `exp` and `sub` required) or an API token (`pst_…`).
 * The user is read from the database on every request, so disabling a user or changing a role applies
 * at once, whatever tokens are still around. `credentialWatch` does the same for streams that stay open.
 * Probe tokens (a remote agent's) are confined here, for every route at once: a probe token is refused
 * (403) on any route outside /probe/*, and a /probe/* route refuses any other credential (403).
 */
export const authPlugin = fp<AuthOptions>(async (app: FastifyInstance, opts) => {
  await app.register(fastifyJwt, {
    secret: opts.secret,
    sign: jwtSignOptions(opts.expiresMin),
    verify: jwtVerifyOptions,
  })

  const verifyJwt: VerifyJwt = (token) => app.jwt.verify<ReturnType<VerifyJwt>>(token)

  app.decorate('authenticate', async (req: FastifyRequest) => {
    const token = bearerToken(req.headers.authorization)
    if (!token) throw unauthorized('Missing credentials')
    const result = await authenticateBearer(opts.sql, token, verifyJwt, { probeTokens: true })
    if (!result.user) throw unauthorized('Invalid token')
    // The route's declared path (not the URL asked for): /probe/x/../targets cannot pass for a probe route.
    const probeRoute = (req.routeOptions.url ?? '').startsWith(PROBE_ROUTE_PREFIX)
    if (result.user.probe && !probeRoute) throw new AppError(403, PROBE_ONLY_DETAIL)
    if (!result.user.probe && probeRoute) throw new AppError(403, PROBE_TOKEN_REQUIRED_DETAIL)
    req.user = result.user
  })

  const watch = createCredentialWatch({ sql: opts.sql, verifyJwt, onError: (err) => app.log.warn({ err }, 'could not re-check a credential') })
  app.decorate('credentialWatch', watch)
  app.addHook('onClose', async () => watch.close())

  app.decorate('requireAdmin', async (req: FastifyRequest, _reply: FastifyReply) => {
    requireAdminRole(req.user)
  })
})

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
    requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** Ends long-lived requests (GET /live) whose credential stops being valid. */
    credentialWatch: CredentialWatch
  }
}
