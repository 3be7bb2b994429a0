import type { Command } from 'commander'
import { loginBody } from '../../src/auth/auth.schema.js'
import { type AuthUser, accessClaims, checkPassword, userJson } from '../../src/auth/auth.service.js'
import { loadJwtSecret } from '../../src/auth/bootstrap.js'
import { TOKEN_PREFIX, findTokenStatus } from '../../src/auth/tokens.repo.js'
import { countUsers, findUserById } from '../../src/auth/users.repo.js'
import { type Credential, credentialsPath, databaseKey, removeCredential, saveCredential } from '../credentials.js'
import { CliError, UsageError, formatFields } from '../output.js'
import { parseWith } from '../parse.js'
import { promptLine, readSecret, stdinIsTty } from '../prompt.js'
import { type CliDeps, type Session, action, authenticateCredential, outputFor, signAccessToken } from '../session.js'

interface LoginOptions {
  username?: string
  password?: string
  token?: string | true
}

async function whoamiJson(s: Session, user: AuthUser, cred: Credential) {
  const u = await findUserById(s.sql, user.id)
  return { ...userJson(u!), via: user.via, database: s.key, expires_at: cred.expires_at }
}

type Whoami = Awaited<ReturnType<typeof whoamiJson>>

const describeLogin = (s: Session, w: Whoami) =>
  formatFields(
    [
      ['user', `${w.username} (${w.role})`],
      ['via', w.via === 'jwt' ? 'password login (JWT)' : 'API token'],
      ['database', w.database],
      ['expires', w.expires_at ?? 'never'],
    ],
    s.out.c,
  )

async function login(s: Session, opts: LoginOptions): Promise<void> {
  let cred: Credential
  if (opts.token !== undefined) {
    if (opts.username || opts.password) throw new UsageError('--token: give either --token or a username and password, not both')
    const token = (await readSecret(opts.token === true ? undefined : opts.token, 'API token')).trim()
    if (!token.startsWith(TOKEN_PREFIX)) throw new UsageError(`--token: must be an API token starting with ${TOKEN_PREFIX} (create one with \`pingscope tokens create\`)`)
    cred = { type: 'api_token', token, username: '', saved_at: new Date().toISOString(), expires_at: null }
  } else {
    let username = opts.username
    if (username === undefined) {
      if (!stdinIsTty()) throw new UsageError('--username: required when stdin is not a terminal')
      username = await promptLine('Username: ')
    }
    const password = await readSecret(opts.password, 'password')
    const body = parseWith(loginBody, { username, password }, { username: '--username', password: '--password' })
    const user = await checkPassword(s.sql, body.username, body.password)
    if (!user) {
      if ((await countUsers(s.sql)) === 0) {
        throw new CliError('no users exist yet: start `pingscope serve` once (it creates the admin) or run `pingscope users add <name> --role admin`')
      }
      throw new CliError('invalid username or password')
    }
    const secret = await loadJwtSecret(s.sql, s.config)
    const { token, expiresAt } = signAccessToken(secret, s.config.auth.jwtExpiresMin, accessClaims(user))
    cred = { type: 'jwt', token, username: user.username, saved_at: new Date().toISOString(), expires_at: expiresAt.toISOString() }
  }
  const result = await authenticateCredential(s.sql, s.config, cred)
  if (typeof result === 'string') {
    throw new CliError(result === 'disabled' ? 'the token belongs to a disabled user' : `the API token is ${result === 'invalid' ? 'unknown' : result}`)
  }
  cred.username = result.username
  if (cred.type === 'api_token') {
    cred.expires_at = (await findTokenStatus(s.sql, cred.token))?.expiresAt?.toISOString() ?? null
  }
  const file = saveCredential(s.deps.env, s.key, cred)
  const doc = await whoamiJson(s, result, cred)
  s.out.emit(doc, (w) => `${s.out.c.green('Logged in')} as ${w.username} (${w.role}); credential saved in ${file}\n${describeLogin(s, w)}`)
}

export function registerAuth(program: Command, deps: CliDeps) {
  program
    .command('login')
    .description('check a username and password (or an API token) and store the credential for this database')
    .option('-u, --username <name>', 'user name (asked on a terminal when missing)')
    .option('-p, --password <password>', 'password (visible to other local users in `ps`: prefer the prompt or stdin)')
    .option('--token [token]', 'log in with an API token (pst_…) instead; read from stdin or asked when no value is given')
    .addHelpText(
      'after',
      `
The credential is stored in $XDG_CONFIG_HOME/pingscope/credentials.json (default ~/.config/pingscope/),
mode 0600, under the database it belongs to (DATA_DIR or DATABASE_URL host/database). A password login
stores a JWT valid for JWT_EXPIRES_MIN minutes; an API token stays valid until revoked or expired.

Examples:
  pingscope login                                   # asks for username and password
  pingscope login -u admin < password.txt           # password from stdin
  pingscope login --token pst_XXXXXXXX              # an API token from \`pingscope tokens create\`
  DATA_DIR=/var/lib/pingscope pingscope login -u ops`,
    )
    .action(action(deps, 'none', login))

  program
    .command('logout')
    .description('forget the stored credential for this database (or all of them)')
    .option('--all', 'forget the credentials of every database')
    .addHelpText('after', '\nExamples:\n  pingscope logout\n  pingscope logout --all')
    .action((opts: { all?: boolean }, cmd: Command) => {
      const out = outputFor(cmd, deps)
      const key = opts.all ? null : databaseKey(deps.getConfig())
      const removed = removeCredential(deps.env, key)
      out.emit({ logged_out: removed > 0, removed, database: key, file: credentialsPath(deps.env) }, (d) =>
        d.logged_out ? `Logged out${key ? ` of ${key}` : ` of ${removed} database${removed === 1 ? '' : 's'}`}` : `Not logged in${key ? ` to ${key}` : ''}`,
      )
    })

  program
    .command('whoami')
    .description('show the user the stored credential belongs to (checked against the database)')
    .addHelpText('after', '\nExamples:\n  pingscope whoami\n  pingscope whoami --json | jq -r .role')
    .action(
      action(deps, 'read', async (s) => {
        const doc = await whoamiJson(s, s.user, s.credential!)
        s.out.emit(doc, (w) => describeLogin(s, w), (w) => w.username)
      }),
    )
}
