import type { Command } from 'commander'
import { userCreateBody, userUpdateBody } from '../../src/auth/auth.schema.js'
import { type UserUpdate, addUser, changeUser, userJson } from '../../src/auth/auth.service.js'
import { type User, countUsers, findUserByUsername, listUsers } from '../../src/auth/users.repo.js'
import { AppError } from '../../src/errors.js'
import { CliError, formatTable, shortTime } from '../output.js'
import { parseWith } from '../parse.js'
import { readSecret } from '../prompt.js'
import { type AuthedSession, type CliDeps, type Session, action, authorize } from '../session.js'

// `pingscope users …` (admins): the rules of /users in the API, through the same auth.service functions,
// plus the first-admin bootstrap of a database without users.

const USER_FLAGS = { username: '<username>', password: '--password', role: '--role' }

async function requireUser(s: Session, username: string) {
  const u = await findUserByUsername(s.sql, username)
  if (!u) throw new AppError(404, `User ${username} not found`)
  return u
}

type UserOut = ReturnType<typeof userJson>

/** Checks the change, then applies it to the user (looked up by name unless the caller already did). */
async function update(s: AuthedSession, user: string | User, body: Record<string, unknown>, done: (u: UserOut) => string, flags: Record<string, string> = USER_FLAGS) {
  const changes: UserUpdate = parseWith(userUpdateBody, body, flags)
  const id = typeof user === 'string' ? (await requireUser(s, user)).id : user.id
  const u = await changeUser(s.sql, s.user, id, changes)
  s.out.emit(userJson(u), (d) => s.out.c.green(done(d)), (d) => String(d.id))
}

const userRows = (rows: UserOut[], s: Session) =>
  formatTable(
    rows,
    [
      { header: 'ID', value: (u) => u.id, align: 'right' },
      { header: 'USERNAME', value: (u) => u.username },
      { header: 'ROLE', value: (u) => u.role },
      { header: 'STATUS', value: (u) => (u.disabled ? 'disabled' : 'active'), style: (t, u) => (u.disabled ? s.out.c.red(t) : t) },
      { header: 'CREATED', value: (u) => shortTime(u.created_at) },
    ],
    s.out.c,
  )

export function registerUsers(program: Command, deps: CliDeps) {
  const users = program
    .command('users')
    .description('manage users (admin role); the first admin can be added without logging in')
    .addHelpText('after', '\nExamples:\n  pingscope users add ops --role viewer\n  pingscope users list\n  pingscope users role ops admin')

  users
    .command('add')
    .argument('<username>', 'letters, digits and . _ @ -')
    .description('add a user; on a database without users this needs no login and makes the first admin')
    .option('--role <role>', 'admin or viewer', 'viewer')
    .option('-p, --password <password>', 'password, 8+ characters (asked on a terminal, else read from stdin)')
    .addHelpText('after', '\nExamples:\n  pingscope users add ops                     # asks for the password\n  pingscope users add ci --role viewer < pw.txt\n  pingscope users add admin --role admin      # first admin of a new database, no login needed')
    .action(
      action(deps, 'none', async (s, username: string, o: { role: string; password?: string }, cmd: Command) => {
        // First-admin bootstrap: with no users at all there is nobody to log in as.
        const bootstrap = !s.credential && (await countUsers(s.sql)) === 0
        if (!bootstrap) await authorize(s, cmd, 'admin')
        else if (o.role !== 'admin') throw new CliError('the first user must be an admin: add --role admin')
        parseWith(userCreateBody.pick({ username: true, role: true }), { username, role: o.role }, USER_FLAGS)
        const password = await readSecret(o.password, 'password')
        const body = parseWith(userCreateBody, { username, password, role: o.role }, USER_FLAGS)
        const u = await addUser(s.sql, body)
        s.out.emit(userJson(u), (d) => s.out.c.green(`Added ${d.role} ${d.username} (id ${d.id})${bootstrap ? ': the first admin; now run `pingscope login`' : ''}`), (d) => String(d.id))
      }),
    )

  users
    .command('list')
    .description('list users')
    .addHelpText('after', '\nExamples:\n  pingscope users list\n  pingscope users list --json')
    .action(
      action(deps, 'admin', async (s) => {
        const docs = (await listUsers(s.sql)).map(userJson)
        s.out.emit(docs, (rows) => userRows(rows, s), (rows) => rows.map((u) => u.username).join('\n'))
      }),
    )

  users
    .command('passwd')
    .argument('<username>')
    .description("set a user's password")
    .option('-p, --password <password>', 'new password (asked on a terminal, else read from stdin)')
    .addHelpText('after', '\nExamples:\n  pingscope users passwd ops\n  pingscope users passwd ops < new-password.txt')
    .action(
      action(deps, 'admin', async (s, username: string, o: { password?: string }) => {
        // Not found before the password is asked for.
        const user = await requireUser(s, username)
        await update(s, user, { password: await readSecret(o.password, 'new password') }, (u) => `Changed the password of ${u.username}`)
      }),
    )

  users
    .command('role')
    .argument('<username>')
    .argument('<role>', 'admin or viewer')
    .description("change a user's role (you cannot demote yourself)")
    .addHelpText('after', '\nExamples:\n  pingscope users role ops admin\n  pingscope users role ops viewer')
    .action(
      action(deps, 'admin', async (s, username: string, role: string) => {
        await update(s, username, { role }, (u) => `${u.username} is now ${u.role === 'admin' ? 'an admin' : 'a viewer'}`, { role: '<role>' })
      }),
    )

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    users
      .command(name)
      .argument('<username>')
      .description(disabled ? 'disable a user: their logins and API tokens stop working at once' : 'enable a disabled user')
      .addHelpText('after', `\nExamples:\n  pingscope users ${name} ops`)
      .action(
        action(deps, 'admin', async (s, username: string) => {
          await update(s, username, { disabled }, (u) => `${disabled ? 'Disabled' : 'Enabled'} ${u.username}`)
        }),
      )
  }
}
