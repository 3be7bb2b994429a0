import type { Command } from 'commander'
import { idParams, tokenCreateBody } from '../../src/auth/auth.schema.js'
import { issueToken, listVisibleTokens, revokeVisibleToken, tokenJson } from '../../src/auth/auth.service.js'
import { formatTable, shortTime } from '../output.js'
import { num, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'

// `pingscope tokens …`: API tokens for scripts and `login --token`, with the rules of /tokens in the API
// (everyone manages their own; admins see and revoke all).

export function registerTokens(program: Command, deps: CliDeps) {
  const tokens = program
    .command('tokens')
    .description('API tokens for scripts and `login --token` (your own; admins see and revoke all)')
    .addHelpText('after', '\nExamples:\n  pingscope tokens create ci --expires-days 90\n  pingscope tokens list\n  pingscope tokens revoke 4')

  tokens
    .command('create')
    .argument('<name>', 'what the token is for')
    .option('--expires-days <n>', 'expire after this many days (1–3650; default never)')
    .option('--probe', "a remote probe agent's token (admins only): valid on /probe/* only, for --site")
    .option('--site <site>', 'the site the probe agent probes for (with --probe)')
    .description('create an API token for yourself (shown once)')
    .addHelpText(
      'after',
      '\nExamples:\n  pingscope tokens create grafana\n  TOKEN=$(pingscope tokens create ci --expires-days 30 --quiet)\n' +
        '  PROBE_TOKEN=$(pingscope tokens create branch-a-1 --probe --site branch-a --quiet)   # then: pingscope probe --server URL',
    )
    .action(
      action(deps, 'read', async (s, name: string, o: { expiresDays?: string; probe?: boolean; site?: string }) => {
        const body = parseWith(
          tokenCreateBody,
          { name, expires_in_days: num(o.expiresDays), ...(o.probe ? { scope: 'probe' } : {}), ...(o.site !== undefined ? { site: o.site } : {}) },
          { name: '<name>', expires_in_days: '--expires-days', scope: '--probe', site: '--site' },
        )
        const { token, record } = await issueToken(s.sql, s.user, body)
        s.out.emit(
          { ...tokenJson(record), token },
          (d) =>
            `${d.token}\n${s.out.c.dim(`${d.scope === 'probe' ? `probe token ${d.id} "${d.name}" for site ${d.site}` : `token ${d.id} "${d.name}" for ${s.user.username}`}${d.expires_at ? `, expires ${shortTime(d.expires_at)}` : ''}: shown once, store it now`)}`,
          (d) => d.token,
        )
      }),
    )

  tokens
    .command('list')
    .description('list API tokens (never the tokens themselves)')
    .addHelpText('after', '\nExamples:\n  pingscope tokens list\n  pingscope tokens list --json')
    .action(
      action(deps, 'read', async (s) => {
        const docs = (await listVisibleTokens(s.sql, s.user)).map(tokenJson)
        s.out.emit(
          docs,
          (rows) =>
            rows.length === 0
              ? 'No tokens.'
              : formatTable(
                  rows,
                  [
                    { header: 'ID', value: (t) => t.id, align: 'right' },
                    { header: 'NAME', value: (t) => t.name },
                    { header: 'USER', value: (t) => t.user_id, align: 'right' },
                    { header: 'PREFIX', value: (t) => `${t.prefix}…` },
                    { header: 'SCOPE', value: (t) => (t.scope === 'probe' ? `probe:${t.site}` : 'user') },
                    { header: 'CREATED', value: (t) => shortTime(t.created_at) },
                    { header: 'LAST USED', value: (t) => shortTime(t.last_used_at) },
                    { header: 'EXPIRES', value: (t) => shortTime(t.expires_at) ?? 'never' },
                    { header: 'REVOKED', value: (t) => shortTime(t.revoked_at), style: (x, t) => (t.revoked_at ? s.out.c.red(x) : x) },
                  ],
                  s.out.c,
                ),
          (rows) => rows.map((t) => t.id).join('\n'),
        )
      }),
    )

  tokens
    .command('revoke')
    .argument('<id>', 'token id (see `tokens list`)')
    .description('revoke an API token: it stops working at once')
    .addHelpText('after', '\nExamples:\n  pingscope tokens revoke 4')
    .action(
      action(deps, 'read', async (s, id: string) => {
        const tokenId = parseWith(idParams, { id }, { id: '<id>' }).id
        await revokeVisibleToken(s.sql, s.user, tokenId)
        s.out.emit({ message: 'Token revoked', id: tokenId }, (d) => s.out.c.green(`Revoked token ${d.id}`))
      }),
    )
}
