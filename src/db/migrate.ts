import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { projectRoot } from '../paths.js'
import type { Sql } from './open.js'

// Forward-only migrations: numbered SQL files in sql/migrations, each applied once and recorded.
// A file runs in one transaction unless its first line is `-- migrate:no-transaction` (TimescaleDB DDL
// such as continuous aggregates refuses transactions); such a file runs statement by statement and must
// be written to be re-runnable.

export const MIGRATIONS_DIR = path.join(projectRoot(), 'sql', 'migrations')

export interface Migration {
  version: number
  name: string
  file: string
  transaction: boolean
  text: string
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const found = readdirSync(dir)
    .filter((f) => /^\d{5}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(`${dir}/${file}`, 'utf8')
      return {
        version: Number(file.slice(0, 5)),
        name: file.slice(6, -4),
        file,
        transaction: !/^--\s*migrate:no-transaction\b/.test(text),
        text,
      }
    })
  found.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.file}: expected number ${i + 1} (no gaps or duplicates)`)
  })
  return found
}

/** Splits SQL text on `;` outside quotes, dollar quotes and comments. */
export function splitStatements(text: string): string[] {
  const out: string[] = []
  let start = 0
  let i = 0
  while (i < text.length) {
    const ch = text[i]!
    const next = text[i + 1]
    if (ch === '-' && next === '-') {
      const nl = text.indexOf('\n', i)
      i = nl < 0 ? text.length : nl + 1
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
    } else if (ch === "'" || ch === '"') {
      let j = i + 1
      while (j < text.length) {
        if (text[j] === ch && text[j + 1] === ch) j += 2
        else if (text[j] === ch) break
        else j++
      }
      i = j + 1
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_0-9]*\$/.exec(text.slice(i))?.[0]
      if (tag) {
        const end = text.indexOf(tag, i + tag.length)
        i = end < 0 ? text.length : end + tag.length
      } else i++
    } else if (ch === ';') {
      out.push(text.slice(start, i))
      start = i + 1
      i++
    } else i++
  }
  out.push(text.slice(start))
  return out
    .map((s) => s.trim())
    .filter((s) => s.replace(/--[^\n]*\n?/g, '').trim().length > 0)
}

// Arbitrary constant: the advisory lock two migrators (two servers starting at once) take.
const MIGRATION_LOCK = 7_406_001

export interface MigrateResult {
  applied: string[]
  version: number
}

/** Applies pending migrations in order; a no-op when everything is applied. */
export async function migrate(sql: Sql, migrations = loadMigrations()): Promise<MigrateResult> {
  await sql`
    create table if not exists schema_migrations (
      version int primary key,
      name text not null,
      applied_at timestamptz not null default now(),
      duration_ms int not null
    )`
  const applied: string[] = []
  for (const m of migrations) {
    const started = performance.now()
    if (m.transaction) {
      const done = await sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
        const [row] = await tx`select 1 from schema_migrations where version = ${m.version}`
        if (row) return false
        await tx.unsafe(m.text)
        await tx`insert into schema_migrations (version, name, duration_ms)
                 values (${m.version}, ${m.name}, ${Math.round(performance.now() - started)})`
        return true
      })
      if (done) applied.push(m.file)
      continue
    }
    const [row] = await sql`select 1 from schema_migrations where version = ${m.version}`
    if (row) continue
    for (const statement of splitStatements(m.text)) await sql.unsafe(statement)
    await sql`insert into schema_migrations (version, name, duration_ms)
              values (${m.version}, ${m.name}, ${Math.round(performance.now() - started)})
              on conflict (version) do nothing`
    applied.push(m.file)
  }
  return { applied, version: await schemaVersion(sql) }
}

export async function schemaVersion(sql: Sql): Promise<number> {
  const [row] = await sql<{ version: number | null }[]>`
    select max(version) as version from schema_migrations`.catch(() => [{ version: 0 }])
  return row?.version ?? 0
}
