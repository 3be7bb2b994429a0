import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from './log.js'

// One error vocabulary for API and CLI: every user-facing error is `{"detail": ...}` with a 4xx status;
// anything unexpected is logged and answered with a 500 that reveals nothing internal.

/** Validation-style detail: which field (`loc`) and what is wrong with it (`msg`). */
export type FieldProblem = { loc: (string | number)[]; msg: string }

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | FieldProblem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; '))
    this.name = 'AppError'
  }
}

export const notFound = (what = 'Target') => new AppError(404, `${what} not found`)

/**
 * Fastify's refusals before a route is found (its `frameworkErrors` option), in the same shape: a URL with
 * malformed percent-encoding (400) and a path parameter over 100 characters (414).
 */
export function frameworkErrorHandler(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400
  const detail =
    err.code === 'FST_ERR_BAD_URL' ? 'The URL is malformed (invalid percent-encoding)'
      : err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long (at most 100 characters)'
        : 'Bad request'
  return reply.status(status).send({ detail })
}

/** A 422 names at most this many problems, then says how many more there are. */
export const MAX_PROBLEMS = 50

export function errorHandler(log: Logger) {
  return (err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) return reply.status(err.status).headers(err.headers).send({ detail: err.detail })
    const fe = err as FastifyError
    if (fe.validation) {
      const context = fe.validationContext ?? 'body'
      const detail: FieldProblem[] = fe.validation.slice(0, MAX_PROBLEMS).map((v) => ({
        loc: [context, ...v.instancePath.split('/').filter(Boolean)],
        msg: v.message ?? 'invalid value',
      }))
      // A long list with every element wrong (a 1 MB body) would otherwise answer with a larger one.
      const more = fe.validation.length - MAX_PROBLEMS
      if (more > 0) detail.push({ loc: [context], msg: `and ${more} more problem${more === 1 ? '' : 's'} not listed` })
      return reply.status(422).send({ detail })
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ detail: fe.message })
    }
    log.error({ err, url: req.url, method: req.method }, 'unhandled error')
    return reply.status(500).send({ detail: 'Internal server error' })
  }
}
