import { ApiError } from './api-client'

/**
 * Splits an error for a form: the API's 422 problems by field, a 409 conflict under `conflictField`
 * (e.g. a duplicate address under the address), and anything else for the form as a whole.
 */
export function formErrors(err: unknown, conflictField?: string): { fields: Record<string, string>; rest: unknown } {
  if (err instanceof ApiError && err.status === 422 && Array.isArray(err.detail)) return { fields: err.fields, rest: null }
  if (err instanceof ApiError && err.status === 409 && conflictField) return { fields: { [conflictField]: String(err.detail) }, rest: null }
  return { fields: {}, rest: err }
}
