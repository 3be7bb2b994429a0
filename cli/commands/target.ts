import type { Command } from 'commander'
import { formatStateAge } from '../../src/targets/target-state.js'
import { type TargetOut, targetCreateBody, targetIdParams, targetListQuery, targetUpdateBody } from '../../src/targets/targets.schema.js'
import {
  createTarget,
  deleteTarget,
  getTargetListed,
  listTargets,
  requireTarget,
  setTargetEnabled,
  targetJson,
  updateTarget,
} from '../../src/targets/targets.service.js'
import { CliError, type Colours, UsageError, formatFields, formatTable, ms, shortTime } from '../output.js'
import { asUsageError, collect, num, parseWith } from '../parse.js'
import { confirm, stdinIsTty } from '../prompt.js'
import { type CliDeps, action } from '../session.js'
import { registerTargetImport } from './target-import.js'

// `pingscope target …`: the same services, schemas and JSON as /targets/ in the API.

/** Body field → the flag or argument a user typed, for error messages. */
export const TARGET_FLAGS: Record<string, string> = {
  ip: '<ip>',
  frequency: '--frequency',
  packets: '--packets',
  timeout_ms: '--timeout-ms',
  name: '--name',
  tags: '--tag',
  url: '--url',
  notes: '--notes',
  badge_public: '--badge-public',
  sites: '--site',
}

interface TargetFlags {
  frequency?: string
  packets?: string
  timeoutMs?: string
  name?: string
  tag?: string[]
  url?: string
  notes?: string
  badgePublic?: boolean
  site?: string[]
}

/** Flags → the API body shape; absent flags stay absent (defaults on add, unchanged on update). */
function bodyFromFlags(o: TargetFlags & { clearTags?: boolean; allSites?: boolean }): Record<string, unknown> {
  const body: Record<string, unknown> = {
    frequency: num(o.frequency),
    packets: num(o.packets),
    timeout_ms: num(o.timeoutMs),
    name: o.name,
    tags: o.clearTags ? [] : o.tag,
    url: o.url,
    notes: o.notes,
    badge_public: o.badgePublic,
    sites: o.allSites ? null : o.site,
  }
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined))
}

export const parseTargetId = (id: string): number => parseWith(targetIdParams, { id }, { id: '<id>' }).id

function targetOptions(cmd: Command, update: boolean): Command {
  cmd
    .option('--frequency <seconds>', `seconds between rounds, 1–3600${update ? '' : ' (default 1)'}`)
    .option('--packets <n>', `echoes per round, 1–20${update ? '' : ' (default 1)'}`)
    .option('--timeout-ms <ms>', `reply timeout per echo, 100–10000${update ? '' : ' (default 1000)'}`)
    .option('--name <name>', `display name${update ? ' ("" clears it)' : ''}`)
    .option('--tag <tag>', `a tag; repeat for several${update ? ' (replaces the tags)' : ''}`, collect)
    .option('--url <url>', `an http(s) link, e.g. the device's admin page${update ? ' ("" clears it)' : ''}`)
    .option('--notes <text>', `free text${update ? ' ("" clears it)' : ''}`)
    .option('--badge-public', 'serve a public status badge for it')
    .option('--site <name>', `a site that probes it; repeat for several${update ? ' (replaces the sites)' : ' (default: every site)'}`, collect)
  if (update) {
    cmd
      .option('--no-badge-public', 'stop serving the public badge')
      .option('--clear-tags', 'remove all tags')
      .option('--all-sites', 'probe it from every site again')
  }
  return cmd
}

const stateColour = (c: Colours) => (text: string, t: TargetOut) =>
  ({ up: c.green, degraded: c.yellow, down: c.red, paused: c.yellow, unknown: c.dim })[t.state](text)

/** `down since 2026-12-02T10:03:10Z (12 min)`: the API's state and when it began. */
export const stateText = (t: TargetOut, now = Date.now()) =>
  `${t.state} since ${shortTime(t.state_since)} (${formatStateAge(now - Date.parse(t.state_since))})`

const siteList = (t: TargetOut, sep: string) => (t.sites ? t.sites.join(sep) : 'all')

export function formatTargets(rows: TargetOut[], c: Colours): string {
  if (rows.length === 0) return 'No targets.'
  return formatTable(
    rows,
    [
      { header: 'ID', value: (t) => t.id, align: 'right' },
      { header: 'IP', value: (t) => t.ip },
      { header: 'NAME', value: (t) => t.name },
      { header: 'STATE', value: (t) => t.state, style: stateColour(c) },
      { header: 'SINCE', value: (t) => formatStateAge(Date.now() - Date.parse(t.state_since)), align: 'right' },
      { header: 'EVERY', value: (t) => `${t.frequency}s`, align: 'right' },
      { header: 'PKTS', value: (t) => t.packets, align: 'right' },
      { header: 'LAST RTT', value: (t) => (t.last_sample ? (t.last_sample.packet_loss ? 'lost' : ms(t.last_sample.latency_ms)) : null), align: 'right' },
      { header: 'LAST SAMPLE', value: (t) => shortTime(t.last_sample?.time) },
      { header: 'TAGS', value: (t) => (t.tags.length ? t.tags.join(',') : null) },
      { header: 'SITES', value: (t) => siteList(t, ',') },
    ],
    c,
  )
}

export function formatTarget(t: TargetOut, c: Colours): string {
  return formatFields(
    [
      ['id', t.id],
      ['ip', t.ip],
      ['name', t.name],
      ['state', stateColour(c)(stateText(t), t)],
      ['frequency', `every ${t.frequency} s`],
      ['packets', `${t.packets} per round, timeout ${t.timeout_ms} ms`],
      ['tags', t.tags.join(', ')],
      ['sites', siteList(t, ', ')],
      ['url', t.url],
      ['notes', t.notes],
      ['badge', t.badge_public ? 'public' : 'private'],
      ['last sample', t.last_sample ? `${shortTime(t.last_sample.time)} ${t.last_sample.packet_loss ? 'lost' : ms(t.last_sample.latency_ms)}` : null],
      ['last reply', shortTime(t.last_reply_at)],
      ['created', shortTime(t.created_at)],
      ['updated', shortTime(t.updated_at)],
    ],
    c,
  )
}

export function registerTarget(program: Command, deps: CliDeps) {
  const target = program
    .command('target')
    .description('add, list, change, pause, resume and delete monitored addresses')
    .addHelpText('after', '\nExamples:\n  pingscope target add 192.0.2.10 --frequency 5 --name core-router --tag dc1\n  pingscope target list --state down\n  pingscope target pause 3')

  targetOptions(
    target
      .command('add')
      .argument('<ip>', 'IPv4 or IPv6 address (a hostname is resolved once and stored as its address)')
      .description('start monitoring an address (the running server starts probing it within about 2 s)'),
    false,
  )
    .addHelpText(
      'after',
      `
Examples:
  pingscope target add 192.0.2.10
  pingscope target add 2001:db8::1 --frequency 10 --packets 5 --name edge --tag dc1 --tag core
  pingscope target add 192.0.2.12 --site branch-a --site branch-b   # probed from these sites only
  id=$(pingscope target add 192.0.2.11 --quiet)`,
    )
    .action(
      action(deps, 'admin', async (s, ip: string, o: TargetFlags) => {
        const input = { ip, ...bodyFromFlags(o) }
        const body = parseWith(targetCreateBody, input, TARGET_FLAGS)
        const t = await createTarget(s.sql, body, s.user.username).catch((err: unknown) => {
          throw asUsageError(err, input, TARGET_FLAGS)
        })
        const doc = { message: `Started tracking ${t.address}${t.resolvedFrom ? ` (resolved from ${t.resolvedFrom})` : ''}`, id: t.id }
        s.out.emit(doc, (d) => `${s.out.c.green(d.message)} (id ${d.id})`, (d) => String(d.id))
      }),
    )

  registerTargetImport(target, deps)

  target
    .command('list')
    .description('list targets with their state and last sample')
    .option('--tag <tag>', 'only targets with this tag')
    .option('--state <state>', 'only targets in this state: active, paused, up, degraded, down, unknown')
    .option('--q <text>', 'search address, name and notes')
    .option('--sort <field>', 'id, ip, name or created_at', 'id')
    .option('--limit <n>', 'at most this many (1–10000)')
    .option('--offset <n>', 'skip this many')
    .addHelpText('after', '\nExamples:\n  pingscope target list\n  pingscope target list --tag dc1 --state down\n  pingscope target list --q router --json | jq \'.[].ip\'\n  pingscope target list --state paused --quiet   # ids only')
    .action(
      action(deps, 'read', async (s, o: { tag?: string; state?: string; q?: string; sort?: string; limit?: string; offset?: string }) => {
        const query = parseWith(targetListQuery, { tag: o.tag, state: o.state, q: o.q, sort: o.sort, limit: o.limit, offset: o.offset }, {})
        const { rows } = await listTargets(s.sql, query)
        const docs = rows.map(targetJson)
        s.out.emit(docs, (d) => formatTargets(d, s.out.c), (d) => d.map((t) => t.id).join('\n'))
      }),
    )

  target
    .command('show')
    .argument('<id>', 'target id')
    .description('show one target')
    .addHelpText('after', '\nExamples:\n  pingscope target show 3\n  pingscope target show 3 --json')
    .action(
      action(deps, 'read', async (s, id: string) => {
        const doc = targetJson(await getTargetListed(s.sql, parseTargetId(id)))
        s.out.emit(doc, (t) => formatTarget(t, s.out.c), (t) => String(t.id))
      }),
    )

  targetOptions(target.command('update').argument('<id>', 'target id').description('change a target (a new frequency applies from its next round)'), true)
    .addHelpText('after', '\nExamples:\n  pingscope target update 3 --frequency 30\n  pingscope target update 3 --tag dc2 --notes "moved to rack 4"\n  pingscope target update 3 --url "" --clear-tags\n  pingscope target update 3 --site branch-a\n  pingscope target update 3 --all-sites')
    .action(
      action(deps, 'admin', async (s, id: string, o: TargetFlags & { clearTags?: boolean; allSites?: boolean }) => {
        const targetId = parseTargetId(id)
        if (o.clearTags && o.tag) throw new UsageError('--clear-tags: give either --clear-tags or --tag, not both')
        if (o.allSites && o.site) throw new UsageError('--all-sites: give either --all-sites or --site, not both')
        const raw = bodyFromFlags(o)
        if (Object.keys(raw).length === 0) throw new UsageError('nothing to change: give at least one of --frequency, --packets, --timeout-ms, --name, --tag, --url, --notes, --badge-public, --site, --all-sites')
        const body = parseWith(targetUpdateBody, raw, TARGET_FLAGS)
        await updateTarget(s.sql, targetId, body, s.user.username)
        const doc = targetJson(await getTargetListed(s.sql, targetId))
        s.out.emit(doc, (t) => `${s.out.c.green('Updated')} target ${t.id}\n${formatTarget(t, s.out.c)}`, (t) => String(t.id))
      }),
    )

  for (const [name, enabled] of [['pause', false], ['resume', true]] as const) {
    target
      .command(name)
      .argument('<id>', 'target id')
      .description(enabled ? 'resume probing a paused target' : 'stop probing a target, keeping its history (ends an open outage)')
      .addHelpText('after', `\nExamples:\n  pingscope target ${name} 3\n  pingscope target list --tag lab --quiet | xargs -n1 pingscope target ${name}`)
      .action(
        action(deps, 'admin', async (s, id: string) => {
          const targetId = parseTargetId(id)
          const changed = await setTargetEnabled(s.sql, targetId, enabled, s.user.username)
          const doc = { message: enabled ? 'Tracking resumed' : 'Tracking paused', id: targetId }
          s.out.emit(doc, (d) => (changed ? s.out.c.green(`${d.message} (target ${d.id})`) : `Target ${d.id} was already ${enabled ? 'active' : 'paused'}`))
        }),
      )
  }

  target
    .command('delete')
    .argument('<id>', 'target id')
    .description('delete a target with its samples, outages and traceroutes (its events stay as the audit trail)')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .addHelpText('after', '\nExamples:\n  pingscope target delete 3          # asks first\n  pingscope target delete 3 --yes')
    .action(
      action(deps, 'admin', async (s, id: string, o: { yes?: boolean }) => {
        const targetId = parseTargetId(id)
        const t = await requireTarget(s.sql, targetId)
        if (!o.yes) {
          if (!stdinIsTty()) throw new UsageError('--yes: required to delete when stdin is not a terminal')
          if (!(await confirm(`Delete target ${t.id} (${t.address}) with all its samples?`))) throw new CliError('cancelled: nothing deleted')
        }
        await deleteTarget(s.sql, targetId, s.user.username)
        s.out.emit({ message: 'Target deleted', id: targetId }, (d) => s.out.c.green(`Deleted target ${d.id} (${t.address})`))
      }),
    )
}
