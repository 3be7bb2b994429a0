import { AppError } from '../src/errors.js'

export const EXIT = { ok: 0, operational: 1, usage: 2 } as const

/** Prints one line naming the problem and exits: 2 for the user's mistakes, 1 for operational errors. */
export function fail(err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err)
  process.stderr.write(`pingscope: ${msg.split('\n')[0]}\n`)
  const usage = err instanceof AppError && (err.status === 400 || err.status === 422)
  process.exit(usage ? EXIT.usage : EXIT.operational)
}
