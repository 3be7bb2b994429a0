import type { Sql } from '../db/open.js'
import { notFound } from '../errors.js'
import { type TargetRow, findTarget } from './targets.repo.js'

/** The target or a 404 `{"detail": "Target not found"}`: every per-target route starts here. */
export async function requireTarget(sql: Sql, id: number): Promise<TargetRow> {
  const t = await findTarget(sql, id)
  if (!t) throw notFound('Target')
  return t
}
