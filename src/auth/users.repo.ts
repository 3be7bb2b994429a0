import type { Sql } from '../db/open.js'

export type Role = 'admin' | 'viewer'

export interface User {
  id: number
  username: string
  role: Role
  disabled: boolean
  /** Stamped in JWTs (claim `cv`); bumped when the password, role or status changes (see updateUser). */
  credentialVersion: number
  createdAt: Date
  updatedAt: Date
}

export interface UserWithHash extends User {
  passwordHash: string
}

export async function findUserByUsername(sql: Sql, username: string): Promise<UserWithHash | null> {
  const [u] = await sql<UserWithHash[]>`
    select id, username, role, disabled, credential_version, created_at, updated_at, password_hash
    from users where lower(username) = lower(${username})`
  return u ?? null
}

export async function findUserById(sql: Sql, id: number): Promise<User | null> {
  const [u] = await sql<User[]>`select id, username, role, disabled, credential_version, created_at, updated_at from users where id = ${id}`
  return u ?? null
}

export async function listUsers(sql: Sql): Promise<User[]> {
  return sql<User[]>`select id, username, role, disabled, credential_version, created_at, updated_at from users order by id`
}

export async function countUsers(sql: Sql): Promise<number> {
  const [r] = await sql<{ n: number }[]>`select count(*)::int as n from users`
  return r!.n
}

/** Inserts a user; returns null when the username (case-insensitively) is taken. */
export async function createUser(sql: Sql, u: { username: string; passwordHash: string; role: Role }): Promise<User | null> {
  const [row] = await sql<User[]>`
    insert into users (username, password_hash, role) values (${u.username}, ${u.passwordHash}, ${u.role})
    on conflict do nothing
    returning id, username, role, disabled, credential_version, created_at, updated_at`
  return row ?? null
}

export async function updateUser(
  sql: Sql,
  id: number,
  changes: { passwordHash?: string; role?: Role; disabled?: boolean },
): Promise<User | null> {
  // A new password (even the same one: a reset means "sign out everywhere"), another role or another
  // status bumps the credential version, which refuses every JWT issued before; a no-op change does not.
  // On the right-hand side of SET, columns are the row's values before the update.
  const [row] = await sql<User[]>`
    update users set
      password_hash = coalesce(${changes.passwordHash ?? null}, password_hash),
      role = coalesce(${changes.role ?? null}, role),
      disabled = coalesce(${changes.disabled ?? null}::boolean, disabled),
      credential_version = credential_version + case
        when ${changes.passwordHash !== undefined}::boolean
          or coalesce(${changes.role ?? null}, role) <> role
          or coalesce(${changes.disabled ?? null}::boolean, disabled) <> disabled
        then 1 else 0 end,
      updated_at = now()
    where id = ${id}
    returning id, username, role, disabled, credential_version, created_at, updated_at`
  return row ?? null
}
