import type { Command } from 'commander'
import { channelCreateBody, channelUpdateBody } from '../../src/alerts/channels.schema.js'
import { changeChannel, createChannel, deleteChannel, listChannelsJson } from '../../src/alerts/channels.service.js'
import { UsageError, formatTable } from '../output.js'
import { collect, num, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'
import { parseId, usageFrom } from './alerts-shared.js'

// `pingscope alerts channels …`: the service, schemas and JSON of /alerts/channels in the API (secrets
// masked; a generated webhook secret shown once).

const CHANNEL_FLAGS: Record<string, string> = {
  name: '<name>',
  kind: '--kind',
  enabled: '--enable/--disable',
  url: '--url',
  secret: '--secret',
  host: '--smtp-host',
  port: '--smtp-port',
  tls: '--tls',
  username: '--smtp-user',
  password: '--smtp-password',
  from: '--from',
  to: '--to',
  id: '<id>',
}

interface ChannelFlags {
  kind?: string
  url?: string
  secret?: string
  smtpHost?: string
  smtpPort?: string
  tls?: string
  smtpUser?: string
  smtpPassword?: string
  from?: string
  to?: string[]
  enable?: boolean
  name?: string
}

function channelConfig(o: ChannelFlags): Record<string, unknown> {
  const config: Record<string, unknown> = {
    url: o.url,
    secret: o.secret,
    host: o.smtpHost,
    port: num(o.smtpPort),
    tls: o.tls,
    username: o.smtpUser,
    password: o.smtpPassword,
    from: o.from,
    to: o.to,
  }
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined))
}

function channelOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'webhook or Slack incoming-webhook URL')
    .option('--secret <secret>', 'webhook HMAC key, at least 16 characters (generated when absent, shown once)')
    .option('--smtp-host <host>', 'email: SMTP server')
    .option('--smtp-port <port>', 'email: SMTP port (default 587)')
    .option('--tls <mode>', 'email: starttls (default), implicit or none')
    .option('--smtp-user <user>', 'email: SMTP user name')
    .option('--smtp-password <password>', 'email: SMTP password')
    .option('--from <address>', 'email: sender address')
    .option('--to <address>', 'email: a recipient; repeat for several', collect)
}

export function registerChannels(alerts: Command, deps: CliDeps) {
  const channels = alerts
    .command('channels')
    .description('notification channels: webhook (signed), Slack, email')
    .addHelpText(
      'after',
      '\nExamples:\n  pingscope alerts channels add noc-hook --kind webhook --url https://hooks.example/pingscope\n  pingscope alerts channels add oncall --kind email --smtp-host mail.example --from pingscope@example.com --to noc@example.com\n  pingscope alerts channels list',
    )

  channels
    .command('list')
    .description('list channels (secrets masked), with queued notifications and the last error')
    .action(
      action(deps, 'read', async (s) => {
        const docs = await listChannelsJson(s.sql)
        s.out.emit(
          docs,
          (rows) =>
            rows.length === 0
              ? 'No channels.'
              : formatTable(
                  rows,
                  [
                    { header: 'ID', value: (r) => r.id, align: 'right' },
                    { header: 'NAME', value: (r) => r.name },
                    { header: 'KIND', value: (r) => r.kind },
                    { header: 'ENABLED', value: (r) => (r.enabled ? 'yes' : 'no') },
                    { header: 'TO', value: (r) => (r.kind === 'email' ? (r.config.to as string[]).join(',') : String(r.config.url)) },
                    { header: 'QUEUED', value: (r) => r.pending, align: 'right' },
                    { header: 'LAST ERROR', value: (r) => r.last_error, style: (x, r) => (r.last_error ? s.out.c.red(x) : x) },
                  ],
                  s.out.c,
                ),
          (rows) => rows.map((r) => r.id).join('\n'),
        )
      }),
    )

  channelOptions(
    channels.command('add').argument('<name>', 'a unique name').requiredOption('--kind <kind>', 'webhook, slack or email').option('--disable', 'create it disabled').description('add a channel'),
  )
    .addHelpText('after', '\nExamples:\n  pingscope alerts channels add ops-slack --kind slack --url https://hooks.slack.example/T000/B000/XXXX')
    .action(
      action(deps, 'admin', async (s, name: string, o: ChannelFlags & { disable?: boolean }) => {
        const input = { name, kind: o.kind, config: channelConfig(o), enabled: !o.disable }
        const body = parseWith(channelCreateBody, input, CHANNEL_FLAGS)
        const ch = await createChannel(s.sql, body).catch((err: unknown) => {
          throw usageFrom(err, CHANNEL_FLAGS)
        })
        s.out.emit(
          ch,
          (d) => `${s.out.c.green(`Added ${d.kind} channel ${d.name}`)} (id ${d.id})${d.secret ? `\nwebhook secret (shown once): ${d.secret}` : ''}`,
          (d) => String(d.id),
        )
      }),
    )

  channelOptions(
    channels
      .command('set')
      .argument('<id>', 'channel id')
      .option('--name <name>', 'rename it')
      .option('--enable', 'deliver again')
      .option('--disable', 'hold its notifications')
      .description('change a channel (absent flags keep their value, secrets too)'),
  )
    .addHelpText('after', '\nExamples:\n  pingscope alerts channels set 1 --disable\n  pingscope alerts channels set 2 --to noc@example.com --to oncall@example.com')
    .action(
      action(deps, 'admin', async (s, id: string, o: ChannelFlags & { disable?: boolean }) => {
        const channelId = parseId(id)
        if (o.enable && o.disable) throw new UsageError('--enable and --disable: give one')
        const config = channelConfig(o)
        const input: Record<string, unknown> = {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(Object.keys(config).length ? { config } : {}),
          ...(o.enable ? { enabled: true } : o.disable ? { enabled: false } : {}),
        }
        if (Object.keys(input).length === 0) throw new UsageError('nothing to change: give at least one flag (see --help)')
        const body = parseWith(channelUpdateBody, input, { ...CHANNEL_FLAGS, name: '--name' })
        const ch = await changeChannel(s.sql, channelId, body).catch((err: unknown) => {
          throw usageFrom(err, CHANNEL_FLAGS)
        })
        s.out.emit(ch, (d) => s.out.c.green(`Changed channel ${d.name} (id ${d.id})`), (d) => String(d.id))
      }),
    )

  channels
    .command('delete')
    .argument('<id>', 'channel id')
    .description('delete a channel and its queued notifications')
    .action(
      action(deps, 'admin', async (s, id: string) => {
        const channelId = parseId(id)
        await deleteChannel(s.sql, channelId)
        s.out.emit({ message: 'Channel deleted', id: channelId }, (d) => s.out.c.green(`Deleted channel ${d.id}`))
      }),
    )
}

