import { chmodSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import type { Config } from '../src/config.js'
import { CliError } from './output.js'

// Stored logins: $XDG_CONFIG_HOME/pingscope/credentials.json (default ~/.config/pingscope/), mode 0600 in
// a 0700 directory, one entry per database so that two installations (data directories or servers) never
// share a credential. An entry holds a JWT from `login` with a password, or an API token from
// `login --token`; either is checked against the database on every command.
//
//   { "version": 1, "databases": { "embedded:/var/lib/pingscope": { "type": "jwt", "token": "eyJ…",
//     "username": "admin", "saved_at": "…Z", "expires_at": "…Z" } } }

const entrySchema = z.object({
  type: z.enum(['jwt', 'api_token']),
  token: z.string().min(1),
  username: z.string(),
  saved_at: z.string(),
  expires_at: z.string().nullable(),
})
export type Credential = z.infer<typeof entrySchema>

const fileSchema = z.object({ version: z.literal(1), databases: z.record(z.string(), entrySchema) })
type CredentialsFile = z.infer<typeof fileSchema>

/** The terminal environment (not pingscope settings): where the user's config directory is. */
export interface UserEnv {
  HOME?: string | undefined
  XDG_CONFIG_HOME?: string | undefined
}

export function credentialsPath(env: UserEnv): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config')
  return path.join(base, 'pingscope', 'credentials.json')
}

/**
 * The database a credential belongs to: the embedded data directory (symlinks resolved), or the server's
 * host, port and database name (never its user or password).
 */
export function databaseKey(config: Config): string {
  const db = config.database
  if (db.mode === 'embedded') {
    let dir = db.dataDir
    try {
      dir = realpathSync(dir)
    } catch {
      // not created yet: the configured absolute path
    }
    return `embedded:${dir}`
  }
  const u = new URL(db.url)
  return `postgres://${u.hostname}:${u.port || '5432'}/${decodeURIComponent(u.pathname.slice(1)) || 'postgres'}`
}

function readFile(file: string): CredentialsFile {
  let text: string
  try {
    const st = statSync(file)
    // As ssh does with private keys: a token others can read is as good as theirs.
    if ((st.mode & 0o077) !== 0) {
      throw new CliError(`${file} is accessible by other users (mode ${(st.mode & 0o777).toString(8)}): run \`chmod 600 ${file}\` or log in again`)
    }
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, databases: {} }
    throw err
  }
  try {
    return fileSchema.parse(JSON.parse(text))
  } catch {
    throw new CliError(`${file} is not a valid credentials file: delete it and log in again`)
  }
}

function writeFile(file: string, content: CredentialsFile): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  // Write a new file with 0600 from the start, then rename over the old one: never a moment with the
  // token in a readable or half-written file.
  const tmp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'w' })
    chmodSync(tmp, 0o600) // in case the file existed with other permissions
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
}

export function readCredential(env: UserEnv, key: string): Credential | null {
  return readFile(credentialsPath(env)).databases[key] ?? null
}

export function saveCredential(env: UserEnv, key: string, credential: Credential): string {
  const file = credentialsPath(env)
  const content = readFile(file)
  content.databases[key] = credential
  writeFile(file, content)
  return file
}

/** Removes this database's credential (or all of them); returns how many were removed. */
export function removeCredential(env: UserEnv, key: string | null): number {
  const file = credentialsPath(env)
  let content: CredentialsFile
  try {
    content = readFile(file)
  } catch (err) {
    // A corrupt or too-open file is exactly what logout should be able to get rid of.
    if (key !== null) throw err
    rmSync(file, { force: true })
    return 1
  }
  const keys = key === null ? Object.keys(content.databases) : Object.keys(content.databases).filter((k) => k === key)
  if (keys.length === 0) return 0
  for (const k of keys) delete content.databases[k]
  writeFile(file, content)
  return keys.length
}
