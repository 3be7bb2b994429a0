import type { Queryable } from '../db/open.js'
import { AppError, type FieldProblem, notFound } from '../errors.js'
import type { SilenceCreate, SilenceListQuery, SilenceOut, SilenceUpdate } from './alerts.schema.js'
import { type SilenceRow, deleteSilenceRow, findSilence, insertSilence, listSilences, updateSilenceRow } from './silences.repo.js'

// Silences (maintenance windows) for the API: one of target_id or tag, ends after it starts. While one
// is active, incidents of the targets it covers are recorded and their notifications held (evaluator.ts).

export function silenceJson(s: SilenceRow, now: Date): SilenceOut {
  return {
    id: s.id,
    target_id: s.targetId,
    tag: s.tag,
    starts_at: s.startsAt.toISOString(),
    ends_at: s.endsAt.toISOString(),
    reason: s.reason,
    created_by: s.createdBy,
    created_at: s.createdAt.toISOString(),
    active: s.startsAt <= now && s.endsAt > now,
  }
}

const problem = (field: string, msg: string): FieldProblem => ({ loc: ['body', field], msg })

function checkTimes(startsAt: Date, endsAt: Date): void {
  if (!(endsAt > startsAt)) throw new AppError(422, [problem('ends_at', 'must be after starts_at')])
}

export async function listSilencesJson(sql: Queryable, q: SilenceListQuery, now: Date): Promise<{ items: SilenceOut[]; total: number }> {
  const { rows, total } = await listSilences(sql, q, now)
  return { items: rows.map((r) => silenceJson(r, now)), total }
}

export async function getSilence(sql: Queryable, id: number): Promise<SilenceRow> {
  const s = await findSilence(sql, id)
  if (!s) throw notFound('Silence')
  return s
}

export async function createSilence(sql: Queryable, b: SilenceCreate, actor: string, now: Date): Promise<SilenceOut> {
  const targetId = b.target_id ?? null
  const tag = b.tag ?? null
  if ((targetId === null) === (tag === null)) throw new AppError(422, [problem(targetId === null ? 'target_id' : 'tag', 'give either target_id or tag, not both')])
  const startsAt = b.starts_at ?? now
  checkTimes(startsAt, b.ends_at)
  const id = await insertSilence(sql, { targetId, tag, startsAt, endsAt: b.ends_at, reason: b.reason, createdBy: actor }).catch((err: unknown) => {
    // The target deleted between the check and the insert.
    if ((err as { code?: string }).code === '23503') return null
    throw err
  })
  if (id === null) throw new AppError(422, [problem('target_id', `no target has id ${targetId}`)])
  return silenceJson(await getSilence(sql, id), now)
}

export async function changeSilence(sql: Queryable, id: number, p: SilenceUpdate, now: Date): Promise<SilenceOut> {
  const s = await getSilence(sql, id)
  const next = { startsAt: p.starts_at ?? s.startsAt, endsAt: p.ends_at ?? s.endsAt, reason: p.reason ?? s.reason }
  checkTimes(next.startsAt, next.endsAt)
  await updateSilenceRow(sql, id, next)
  return silenceJson(await getSilence(sql, id), now)
}

export async function deleteSilence(sql: Queryable, id: number): Promise<void> {
  if (!(await deleteSilenceRow(sql, id))) throw notFound('Silence')
}
