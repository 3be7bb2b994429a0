import { textArrayLiteral } from '../../src/db/arrays.js'
import type { Sql } from '../../src/db/open.js'
import { type RuleRow, type RuleValues, insertRule } from '../../src/alerts/rules.repo.js'
import { type Sample, insertSamples } from '../../src/probe/writer.js'

// Data for the alerting tests, written straight to the tables the evaluator reads: targets, samples
// (as the writer stores them), outages (as the outage tracker opens and closes them), rules, channels.

export const S = 1000
export const MIN = 60 * S

/** An hour-aligned time a few hours back: inside raw retention, clear of the present. */
export function baseTime(hoursBack: number): number {
  return Math.floor(Date.now() / (60 * MIN)) * 60 * MIN - hoursBack * 60 * MIN
}

export async function makeTarget(sql: Sql, address: string, tags: string[] = [], name: string | null = null): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    insert into targets (address, name, tags, interval_s, packets) values (${address}, ${name}, ${textArrayLiteral(tags)}::text[], 10, 5) returning id`
  return row!.id
}

export async function makeRule(sql: Sql, v: Partial<RuleValues> & Pick<RuleValues, 'name' | 'condition'>): Promise<RuleRow> {
  const row = await insertRule(
    sql,
    {
      scope: 'all',
      target_id: null,
      tag: null,
      threshold: null,
      window_s: 60,
      for_s: 60,
      recover_s: 60,
      severity: 'warning',
      muted: false,
      channel_ids: [],
      ...v,
    },
    'test',
  )
  return row!
}

export async function makeChannel(sql: Sql, name: string, kind: 'webhook' | 'slack' | 'email', config: Record<string, unknown>): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    insert into alert_channels (name, kind, config) values (${name}, ${kind}, ${sql.json(config as never)}) returning id`
  return row!.id
}

/** One probe round of `packets` echoes at `time`: `lost` of them lost, the others answered in rttUs. */
export function round(targetId: number, time: number, packets: number, lost: number, rttUs: number): Sample[] {
  return Array.from({ length: packets }, (_, seq) => {
    const isLost = seq < lost
    return { time: new Date(time + seq * 100), targetId, seq, rttUs: isLost ? null : rttUs + seq, ttl: isLost ? null : 60, jitterUs: null, status: isLost ? 1 : 0, reporter: null }
  })
}

export async function writeRounds(sql: Sql, rows: Sample[]): Promise<void> {
  if (rows.length) await insertSamples(sql, rows)
}

/** Opens (down) or closes (up) the target's outage as the outage tracker would, at `at`. */
export async function setOutage(sql: Sql, targetId: number, down: boolean, at: number): Promise<void> {
  if (down) {
    await sql`
      insert into outages (target_id, started_at, lost_rounds, cause) values (${targetId}, ${new Date(at)}, 3, 'timeout')
      on conflict (target_id, site) where ended_at is null do nothing`
  } else await sql`update outages set ended_at = ${new Date(at)} where target_id = ${targetId} and ended_at is null`
}

/** Alerting's tables emptied between tests (targets stay: each test makes its own). */
export async function clearAlerts(sql: Sql): Promise<void> {
  await sql`delete from notification_outbox`
  await sql`delete from alert_state`
  await sql`delete from incidents`
  await sql`delete from alert_rules`
  await sql`delete from silences`
  await sql`delete from alert_channels`
}

export interface IncidentView {
  rule: string
  targetId: number
  startedAt: number
  firedAt: number
  endedAt: number | null
  peak: number | null
  notified: boolean
  endReason: string | null
}

export async function incidentsOf(sql: Sql): Promise<IncidentView[]> {
  const rows = await sql<{ ruleName: string; targetId: number; startedAt: Date; firedAt: Date; endedAt: Date | null; peak: number | null; notified: boolean; endReason: string | null }[]>`
    select rule_name, target_id, started_at, fired_at, ended_at, peak, notified, end_reason from incidents order by id`
  return rows.map((r) => ({
    rule: r.ruleName,
    targetId: r.targetId,
    startedAt: r.startedAt.getTime(),
    firedAt: r.firedAt.getTime(),
    endedAt: r.endedAt?.getTime() ?? null,
    peak: r.peak,
    notified: r.notified,
    endReason: r.endReason,
  }))
}

export async function outboxOf(sql: Sql): Promise<{ dedupeKey: string; transition: string; createdAt: number; text: string }[]> {
  const rows = await sql<{ dedupeKey: string; transition: string; createdAt: Date; payload: { text: string } }[]>`
    select dedupe_key, transition, created_at, payload from notification_outbox order by id`
  return rows.map((r) => ({ dedupeKey: r.dedupeKey, transition: r.transition, createdAt: r.createdAt.getTime(), text: r.payload.text }))
}
