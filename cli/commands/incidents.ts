import type { Command } from 'commander'
import { type IncidentOut, idParams, incidentListQuery, incidentNoteBody } from '../../src/alerts/alerts.schema.js'
import { acknowledge, addNote, getIncidentDetail, listIncidentsJson } from '../../src/alerts/incidents.service.js'
import { type Colours, formatFields, formatTable, shortTime } from '../output.js'
import { num, parseDuration, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'

// `pingscope incidents …`: the incidents the alert evaluator opened and closed, with the rules and JSON
// of /incidents in the API. Everyone signed in reads; acknowledging and notes need the admin role.

/** Query field → the flag a user typed, for error messages. */
const FLAGS: Record<string, string> = {
  target_id: '--target',
  rule_id: '--rule',
  severity: '--severity',
  limit: '--limit',
  offset: '--offset',
  from: '--since',
  id: '<id>',
  text: '<text>',
}

interface ListFlags {
  target?: string
  rule?: string
  severity?: string
  unacked?: boolean
  since?: string
  limit?: string
  offset?: string
}

const UNITS: [string, number][] = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
]

/** `1h 5m`, `2h`, `3d 2h`, `42s`: a duration in its largest unit and the next one unless that is 0. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds))
  const i = UNITS.findIndex(([, size]) => total >= size)
  if (i < 0) return '0s'
  const [unit, size] = UNITS[i]!
  const head = `${Math.floor(total / size)}${unit}`
  const next = UNITS[i + 1]
  const rest = next ? Math.floor((total % size) / next[1]) : 0
  return next && rest > 0 ? `${head} ${rest}${next[0]}` : head
}

const severityColour = (c: Colours) => (text: string, i: IncidentOut) =>
  ({ critical: c.red, warning: c.yellow, info: c.cyan })[i.severity as 'info']?.(text) ?? text

const peakText = (i: IncidentOut) => (i.peak === null ? null : `${Number(i.peak.toFixed(3))}${i.unit ? ` ${i.unit}` : ''}`)
const targetText = (i: IncidentOut) => (i.target_name ? `${i.target_name} (${i.target_address})` : i.target_address)

export function formatIncidents(rows: IncidentOut[], c: Colours, empty: string): string {
  if (rows.length === 0) return empty
  return formatTable(
    rows,
    [
      { header: 'ID', value: (i) => i.id, align: 'right' },
      { header: 'SEVERITY', value: (i) => i.severity, style: severityColour(c) },
      { header: 'STATE', value: (i) => (i.ongoing ? 'open' : 'closed'), style: (x, i) => (i.ongoing ? c.red(x) : c.dim(x)) },
      { header: 'RULE', value: (i) => i.rule_name },
      { header: 'TARGET', value: targetText },
      { header: 'STARTED', value: (i) => shortTime(i.started_at) },
      { header: 'FOR', value: (i) => formatDuration(i.duration_s), align: 'right' },
      { header: 'PEAK', value: peakText, align: 'right' },
      { header: 'ACK', value: (i) => i.acknowledged_by },
    ],
    c,
  )
}

export function formatIncident(i: IncidentOut & { notifications?: { channel_id: number; transition: string; attempts: number; delivered_at: string | null; failed_at: string | null; last_error: string | null }[] }, c: Colours): string {
  const fields = formatFields(
    [
      ['id', i.id],
      ['rule', `${i.rule_name}${i.rule_id === null ? ' (deleted)' : ` (id ${i.rule_id})`}`],
      ['severity', severityColour(c)(i.severity, i)],
      ['condition', `${i.condition}${i.threshold === null ? '' : ` >= ${i.threshold}${i.unit ? ` ${i.unit}` : ''}`}`],
      ['target', `${targetText(i)}, id ${i.target_id}`],
      ['state', i.ongoing ? c.red('open') : `closed (${i.end_reason ?? 'recovered'})`],
      ['started', shortTime(i.started_at)],
      ['fired', shortTime(i.fired_at)],
      ['ended', shortTime(i.ended_at)],
      ['duration', formatDuration(i.duration_s)],
      ['peak', peakText(i)],
      ['notified', i.notified ? 'yes' : 'no (muted, silenced or no channel)'],
      ['acknowledged', i.acknowledged_by ? `by ${i.acknowledged_by} at ${shortTime(i.acknowledged_at)}` : null],
    ],
    c,
  )
  const notes = i.notes.map((n) => `  ${shortTime(n.at)} ${n.by ?? '-'}: ${n.text}`)
  const sent = (i.notifications ?? []).map(
    (n) =>
      `  channel ${n.channel_id} ${n.transition}: ${n.delivered_at ? `delivered ${shortTime(n.delivered_at)}` : n.failed_at ? c.red(`gave up ${shortTime(n.failed_at)}`) : 'queued'}` +
      `, ${n.attempts} attempt${n.attempts === 1 ? '' : 's'}${n.last_error && !n.delivered_at ? ` (${n.last_error})` : ''}`,
  )
  return [fields, ...(notes.length ? [c.bold('notes'), ...notes] : []), ...(sent.length ? [c.bold('notifications'), ...sent] : [])].join('\n')
}

function listOptions(cmd: Command): Command {
  return cmd
    .option('--target <id>', 'only incidents of this target')
    .option('--rule <id>', 'only incidents of this rule')
    .option('--severity <severity>', 'critical, warning or info')
    .option('--unacked', 'only incidents nobody has acknowledged')
    .option('--since <duration>', 'only incidents still open at some point in this past duration, e.g. 24h, 7d')
    .option('--limit <n>', 'at most this many (1–1000, default 100)')
    .option('--offset <n>', 'skip this many')
}

export function registerIncidents(program: Command, deps: CliDeps) {
  const incidents = program
    .command('incidents')
    .description('incidents opened by alert rules: open ones, history, acknowledge, notes')
    .addHelpText(
      'after',
      '\nExamples:\n  pingscope incidents                  # open incidents\n  pingscope incidents history --since 7d\n  pingscope incidents show 12\n  pingscope incidents ack 12\n  pingscope incidents note 12 "uplink flapping, ticket NET-4411"',
    )

  const list = (state: 'open' | 'all', empty: string) =>
    action(deps, 'read', async (s, o: ListFlags) => {
      const from = o.since === undefined ? undefined : new Date(Date.now() - parseDuration(o.since, '--since') * 60_000).toISOString()
      const input = {
        state,
        target_id: num(o.target),
        rule_id: num(o.rule),
        severity: o.severity,
        acknowledged: o.unacked ? 'false' : undefined,
        from,
        limit: num(o.limit),
        offset: num(o.offset),
      }
      const query = parseWith(incidentListQuery, input, FLAGS)
      const { items } = await listIncidentsJson(s.sql, query, new Date())
      s.out.emit(items, (d) => formatIncidents(d, s.out.c, empty), (d) => d.map((i) => i.id).join('\n'))
    })

  listOptions(incidents.command('open', { isDefault: true }).description('open incidents, newest first (the default)'))
    .addHelpText('after', '\nExamples:\n  pingscope incidents open\n  pingscope incidents open --severity critical --unacked --json')
    .action(list('open', 'No open incidents.'))

  listOptions(incidents.command('history').description('open and closed incidents, newest first'))
    .addHelpText('after', '\nExamples:\n  pingscope incidents history --since 24h\n  pingscope incidents history --target 3 --json')
    .action(list('all', 'No incidents.'))

  incidents
    .command('show')
    .argument('<id>', 'incident id')
    .description('one incident with its notes and notifications (per channel: attempts, delivery, last error)')
    .addHelpText('after', '\nExamples:\n  pingscope incidents show 12\n  pingscope incidents show 12 --json')
    .action(
      action(deps, 'read', async (s, id: string) => {
        const incidentId = parseWith(idParams, { id }, FLAGS).id
        const doc = await getIncidentDetail(s.sql, incidentId, new Date())
        s.out.emit(doc, (d) => formatIncident(d, s.out.c), (d) => String(d.id))
      }),
    )

  incidents
    .command('ack')
    .argument('<id>', 'incident id')
    .description('acknowledge an incident (the first acknowledgement is kept)')
    .addHelpText('after', '\nExamples:\n  pingscope incidents ack 12')
    .action(
      action(deps, 'admin', async (s, id: string) => {
        const incidentId = parseWith(idParams, { id }, FLAGS).id
        const doc = await acknowledge(s.sql, incidentId, s.user.username, new Date())
        s.out.emit(doc, (d) => s.out.c.green(`Incident ${d.id} acknowledged by ${d.acknowledged_by ?? '-'} at ${shortTime(d.acknowledged_at)}`), (d) => String(d.id))
      }),
    )

  incidents
    .command('note')
    .argument('<id>', 'incident id')
    .argument('<text>', 'the note (up to 2,000 characters)')
    .description('add a note to an incident')
    .addHelpText('after', '\nExamples:\n  pingscope incidents note 12 "provider ticket 4411 opened"')
    .action(
      action(deps, 'admin', async (s, id: string, text: string) => {
        const incidentId = parseWith(idParams, { id }, FLAGS).id
        const body = parseWith(incidentNoteBody, { text }, FLAGS)
        const doc = await addNote(s.sql, incidentId, s.user.username, body.text, new Date())
        s.out.emit(doc, (d) => s.out.c.green(`Note added to incident ${d.id} (${d.notes.length} note${d.notes.length === 1 ? '' : 's'})`), (d) => String(d.id))
      }),
    )
}
