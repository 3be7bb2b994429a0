import type { Command } from 'commander'
import { type SilenceOut, silenceCreateBody, silenceListQuery, silenceUpdateBody } from '../../src/alerts/alerts.schema.js'
import { changeSilence, createSilence, deleteSilence, getSilence, listSilencesJson } from '../../src/alerts/silences.service.js'
import { AppError } from '../../src/errors.js'
import { CliError, type Colours, UsageError, formatTable, shortTime } from '../output.js'
import { num, parseSeconds, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'
import { parseId, usageFrom } from './alerts-shared.js'

// `pingscope alerts silences …`: the service, schemas and JSON of /alerts/silences in the API.

const SILENCE_FLAGS: Record<string, string> = {
  target_id: '--target',
  tag: '--tag',
  starts_at: '--from',
  ends_at: '--until/--for',
  reason: '--reason',
  state: '--state',
  limit: '--limit',
  offset: '--offset',
  id: '<id>',
}

interface SilenceFlags {
  target?: string
  tag?: string
  from?: string
  until?: string
  for?: string
  reason?: string
}

/** `--until <time>` or `--for <duration>` (from `--from`, else now) → ends_at. */
function endsAt(o: SilenceFlags, now: Date): string | undefined {
  if (o.until !== undefined && o.for !== undefined) throw new UsageError('--until and --for: give one')
  if (o.for === undefined) return o.until
  const start = o.from === undefined ? now : new Date(o.from)
  if (Number.isNaN(start.getTime())) return undefined // --from is refused by the schema, naming it
  return new Date(start.getTime() + parseSeconds(o.for, '--for')! * 1000).toISOString()
}

export function formatSilences(rows: SilenceOut[], c: Colours): string {
  if (rows.length === 0) return 'No silences.'
  return formatTable(
    rows,
    [
      { header: 'ID', value: (r) => r.id, align: 'right' },
      { header: 'SCOPE', value: (r) => (r.target_id !== null ? `target ${r.target_id}` : `tag ${r.tag}`) },
      { header: 'FROM', value: (r) => shortTime(r.starts_at) },
      { header: 'UNTIL', value: (r) => shortTime(r.ends_at) },
      { header: 'ACTIVE', value: (r) => (r.active ? 'active' : null), style: (x, r) => (r.active ? c.yellow(x) : x) },
      { header: 'BY', value: (r) => r.created_by },
      { header: 'REASON', value: (r) => r.reason },
    ],
    c,
  )
}

export function registerSilences(alerts: Command, deps: CliDeps) {
  const silences = alerts
    .command('silences')
    .description('maintenance windows: incidents still recorded, notifications held')
    .addHelpText('after', '\nExamples:\n  pingscope alerts silences add --tag dc1 --for 2h --reason "core switch upgrade"\n  pingscope alerts silences list --state active\n  pingscope alerts silences end 3')

  silences
    .command('list')
    .description('list silences')
    .option('--state <state>', 'active, upcoming, expired or all (default)')
    .option('--target <id>', 'only silences of this target')
    .option('--tag <tag>', 'only silences of this tag')
    .option('--limit <n>', 'at most this many (1–1000, default 100)')
    .option('--offset <n>', 'skip this many')
    .action(
      action(deps, 'read', async (s, o: { state?: string; target?: string; tag?: string; limit?: string; offset?: string }) => {
        const query = parseWith(silenceListQuery, { state: o.state, target_id: num(o.target), tag: o.tag, limit: num(o.limit), offset: num(o.offset) }, SILENCE_FLAGS)
        const { items } = await listSilencesJson(s.sql, query, new Date())
        s.out.emit(items, (d) => formatSilences(d, s.out.c), (d) => d.map((r) => r.id).join('\n'))
      }),
    )

  silences
    .command('add')
    .description('silence a target or a tag for a while')
    .option('--target <id>', 'the target to silence')
    .option('--tag <tag>', 'the tag whose targets to silence')
    .option('--from <time>', 'start (ISO 8601 with a zone; default now)')
    .option('--until <time>', 'end (ISO 8601 with a zone)')
    .option('--for <duration>', 'or how long, e.g. 90m, 2h, 1d')
    .requiredOption('--reason <text>', 'why (shown with held notifications)')
    .addHelpText('after', '\nExamples:\n  pingscope alerts silences add --target 3 --for 30m --reason "rebooting"\n  pingscope alerts silences add --tag dc1 --from 2026-12-05T22:00:00Z --until 2026-12-06T02:00:00Z --reason "DC1 maintenance"')
    .action(
      action(deps, 'admin', async (s, o: SilenceFlags) => {
        if ((o.target === undefined) === (o.tag === undefined)) throw new UsageError('--target or --tag: give one')
        const now = new Date()
        const input = { target_id: num(o.target), tag: o.tag, starts_at: o.from, ends_at: endsAt(o, now), reason: o.reason }
        if (input.ends_at === undefined && o.from === undefined) throw new UsageError('--until or --for: give one')
        const body = parseWith(silenceCreateBody, input, SILENCE_FLAGS)
        const silence = await createSilence(s.sql, body, s.user.username, now).catch((err: unknown) => {
          throw usageFrom(err, SILENCE_FLAGS)
        })
        s.out.emit(silence, (d) => `${s.out.c.green(`Silenced ${d.target_id !== null ? `target ${d.target_id}` : `tag ${d.tag}`} until ${shortTime(d.ends_at)}`)} (id ${d.id})`, (d) => String(d.id))
      }),
    )

  silences
    .command('end')
    .argument('<id>', 'silence id')
    .description('end a silence now (it stays listed as expired)')
    .action(
      action(deps, 'admin', async (s, id: string) => {
        const silenceId = parseId(id)
        const now = new Date()
        const current = await getSilence(s.sql, silenceId)
        if (current.endsAt <= now) throw new CliError(`silence ${silenceId} already ended at ${shortTime(current.endsAt.toISOString())}`)
        const body = parseWith(silenceUpdateBody, { ends_at: now.toISOString() }, SILENCE_FLAGS)
        const silence = await changeSilence(s.sql, silenceId, body, now).catch((err: unknown) => {
          // A silence that has not started yet cannot end before it starts: delete it instead.
          if (err instanceof AppError && err.status === 422) throw new UsageError(`silence ${silenceId} has not started yet: delete it with \`pingscope alerts silences delete ${silenceId}\``)
          throw err
        })
        s.out.emit(silence, (d) => s.out.c.green(`Ended silence ${d.id}`), (d) => String(d.id))
      }),
    )

  silences
    .command('delete')
    .argument('<id>', 'silence id')
    .description('delete a silence')
    .action(
      action(deps, 'admin', async (s, id: string) => {
        const silenceId = parseId(id)
        await deleteSilence(s.sql, silenceId)
        s.out.emit({ message: 'Silence deleted', id: silenceId }, (d) => s.out.c.green(`Deleted silence ${d.id}`))
      }),
    )
}

