import type { Command } from 'commander'
import { type RuleOut, ruleCreateBody, ruleUpdateBody } from '../../src/alerts/alerts.schema.js'
import { changeRule, createRule, deleteRule, listRulesJson } from '../../src/alerts/rules.service.js'
import { type Colours, UsageError, formatTable } from '../output.js'
import { collect, num, parseSeconds, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'
import { parseId, usageFrom } from './alerts-shared.js'
import { formatDuration } from './incidents.js'

// `pingscope alerts rules …`: the service, schemas and JSON of /alerts/rules in the API.

const RULE_FLAGS: Record<string, string> = {
  name: '<name>',
  scope: '--target/--tag/--all',
  target_id: '--target',
  tag: '--tag',
  condition: '--condition',
  threshold: '--threshold',
  window_s: '--window',
  for_s: '--for',
  recover_s: '--recover',
  severity: '--severity',
  muted: '--mute',
  channel_ids: '--channel',
  id: '<id>',
}

interface RuleFlags {
  target?: string
  tag?: string
  all?: boolean
  condition?: string
  threshold?: string
  window?: string
  for?: string
  recover?: string
  severity?: string
  mute?: boolean
  channel?: string[]
  clearChannels?: boolean
}

function ruleBody(o: RuleFlags): Record<string, unknown> {
  const scopes = [o.target !== undefined && 'target', o.tag !== undefined && 'tag', o.all && 'all'].filter(Boolean)
  if (scopes.length > 1) throw new UsageError('--target, --tag and --all: give one scope only')
  const body: Record<string, unknown> = {
    scope: scopes[0],
    target_id: num(o.target),
    tag: o.tag,
    condition: o.condition,
    threshold: o.threshold === 'none' ? null : num(o.threshold),
    window_s: parseSeconds(o.window, '--window'),
    for_s: parseSeconds(o.for, '--for'),
    recover_s: parseSeconds(o.recover, '--recover'),
    severity: o.severity,
    muted: o.mute,
    channel_ids: o.clearChannels ? [] : o.channel?.map(num),
  }
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined))
}

function ruleOptions(cmd: Command, update: boolean): Command {
  cmd
    .option('--target <id>', 'scope: one target')
    .option('--tag <tag>', 'scope: the targets with this tag')
    .option('--all', `scope: every target${update ? '' : ' (the default)'}`)
    .option('--condition <condition>', 'outage, loss, latency_p95, latency_p50, path_change or probe_missing')
    .option('--threshold <n>', 'loss: percent; latency: ms; path_change: changes in the window (default 1); met at or above it (none for outage, probe_missing)')
    .option('--window <duration>', `loss and latency are judged over this window, e.g. 5m${update ? '' : ' (default 5m)'}`)
    .option('--for <duration>', `the condition must hold this long to fire${update ? '' : ' (default 1m)'}`)
    .option('--recover <duration>', `and be clear this long to resolve${update ? '' : ' (default 2m)'}`)
    .option('--severity <severity>', `critical, warning or info${update ? '' : ' (default warning)'}`)
    .option('--channel <id>', `notify this channel; repeat for several${update ? ' (replaces the list)' : ''}`, collect)
    .option('--mute', 'record incidents but notify nobody')
  if (update) cmd.option('--no-mute', 'notify again').option('--clear-channels', 'notify no channel')
  return cmd
}

const severityColour = (c: Colours, severity: string, text: string) => ({ critical: c.red, warning: c.yellow, info: c.cyan })[severity as 'info']?.(text) ?? text

function ruleScope(r: RuleOut): string {
  return r.scope === 'target' ? `target ${r.target_id}` : r.scope === 'tag' ? `tag ${r.tag}` : 'all'
}

function ruleCondition(r: RuleOut): string {
  if (r.condition === 'outage' || r.condition === 'probe_missing') return r.condition
  const unit = { loss: ' %', latency_p95: ' ms', latency_p50: ' ms', path_change: '' }[r.condition]
  return `${r.condition} >= ${r.threshold}${unit} over ${formatDuration(r.window_s)}`
}

export function formatRules(rows: RuleOut[], c: Colours): string {
  if (rows.length === 0) return 'No alert rules.'
  return formatTable(
    rows,
    [
      { header: 'ID', value: (r) => r.id, align: 'right' },
      { header: 'NAME', value: (r) => r.name },
      { header: 'SCOPE', value: ruleScope },
      { header: 'CONDITION', value: ruleCondition },
      { header: 'FOR', value: (r) => formatDuration(r.for_s), align: 'right' },
      { header: 'RECOVER', value: (r) => formatDuration(r.recover_s), align: 'right' },
      { header: 'SEVERITY', value: (r) => r.severity, style: (x, r) => severityColour(c, r.severity, x) },
      { header: 'CHANNELS', value: (r) => (r.channel_ids.length ? r.channel_ids.join(',') : null) },
      { header: 'MUTED', value: (r) => (r.muted ? 'muted' : null) },
    ],
    c,
  )
}

export function registerRules(alerts: Command, deps: CliDeps) {
  const rules = alerts
    .command('rules')
    .description('alert rules: what opens an incident, and whom it notifies')
    .addHelpText(
      'after',
      '\nExamples:\n  pingscope alerts rules add core-down --condition outage --tag core --for 1m --severity critical --channel 1\n  pingscope alerts rules add lossy --condition loss --threshold 5 --window 5m --for 5m --recover 10m\n  pingscope alerts rules list',
    )

  rules
    .command('list')
    .description('list alert rules')
    .action(
      action(deps, 'read', async (s) => {
        const docs = await listRulesJson(s.sql)
        s.out.emit(docs, (d) => formatRules(d, s.out.c), (d) => d.map((r) => r.id).join('\n'))
      }),
    )

  ruleOptions(rules.command('add').argument('<name>', 'a unique name').description('add an alert rule'), false)
    .addHelpText('after', '\nExamples:\n  pingscope alerts rules add slow-dc1 --tag dc1 --condition latency_p95 --threshold 50 --window 10m --for 5m')
    .action(
      action(deps, 'admin', async (s, name: string, o: RuleFlags) => {
        const input = { name, scope: 'all', ...ruleBody(o) }
        const body = parseWith(ruleCreateBody, input, RULE_FLAGS)
        const rule = await createRule(s.sql, body, s.user.username).catch((err: unknown) => {
          throw usageFrom(err, RULE_FLAGS)
        })
        s.out.emit(rule, (d) => `${s.out.c.green(`Added rule ${d.name}`)} (id ${d.id})`, (d) => String(d.id))
      }),
    )

  ruleOptions(rules.command('set').argument('<id>', 'rule id').option('--name <name>', 'rename it').description('change a rule (absent flags keep their value)'), true)
    .addHelpText('after', '\nExamples:\n  pingscope alerts rules set 2 --threshold 10\n  pingscope alerts rules set 2 --mute')
    .action(
      action(deps, 'admin', async (s, id: string, o: RuleFlags & { name?: string }) => {
        const ruleId = parseId(id)
        const input = { ...ruleBody(o), ...(o.name !== undefined ? { name: o.name } : {}) }
        if (Object.keys(input).length === 0) throw new UsageError('nothing to change: give at least one flag (see --help)')
        const body = parseWith(ruleUpdateBody, input, { ...RULE_FLAGS, name: '--name' })
        const rule = await changeRule(s.sql, ruleId, body).catch((err: unknown) => {
          throw usageFrom(err, RULE_FLAGS)
        })
        s.out.emit(rule, (d) => s.out.c.green(`Changed rule ${d.name} (id ${d.id})`), (d) => String(d.id))
      }),
    )

  rules
    .command('delete')
    .argument('<id>', 'rule id')
    .description('delete a rule; its open incidents close, and notified ones get their resolve')
    .action(
      action(deps, 'admin', async (s, id: string) => {
        const ruleId = parseId(id)
        await deleteRule(s.sql, ruleId, { groupWaitMs: s.config.alerts.groupWaitMs, now: new Date() })
        s.out.emit({ message: 'Rule deleted', id: ruleId }, (d) => s.out.c.green(`Deleted rule ${d.id}`))
      }),
    )
}

