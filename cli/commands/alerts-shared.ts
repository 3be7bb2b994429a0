import { idParams } from '../../src/alerts/alerts.schema.js'
import { AppError } from '../../src/errors.js'
import { UsageError } from '../output.js'
import { parseWith } from '../parse.js'

// What the `pingscope alerts …` commands share.

/**
 * A service's 422 as a UsageError naming the flag (`--url: must be an http(s) URL …`); a channel's
 * config problems come as `config.<field>`, named by the field's flag.
 */
export function usageFrom(err: unknown, flags: Record<string, string>): unknown {
  if (!(err instanceof AppError) || err.status !== 422 || !Array.isArray(err.detail) || !err.detail[0]) return err
  const loc = err.detail[0].loc.filter((l) => l !== 'body')
  const field = String(loc[0] === 'config' ? (loc[1] ?? 'config') : loc[0])
  const msg = /received undefined$/.test(err.detail[0].msg) ? 'is required' : err.detail[0].msg
  return new UsageError(`${flags[field] ?? `--${field.replace(/_/g, '-')}`}: ${msg}`)
}

export const parseId = (id: string) => parseWith(idParams, { id }, { id: '<id>' }).id
