import { spawn } from 'node:child_process'
import { CLI, ROOT } from '../helpers/process.js'

// Runs the built `pingscope` as a user would: its own process, stdin a pipe (never a terminal), an
// environment holding only PATH plus what the test gives (DATA_DIR, HOME, XDG_CONFIG_HOME, …).

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (throws with the output when it is not one document). */
  json<T = unknown>(): T
}

export function runCli(args: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdin.on('error', () => {}) // a command that does not read stdin may exit before we finish writing
    child.stdin.end(input)
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T
          } catch {
            throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`)
          }
        },
      }),
    )
  })
}

/** A CliResult as a string for assertion messages. */
export const show = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`

/** Exactly one line on stderr, and no stack trace. */
export function oneLine(r: CliResult): string {
  const lines = r.stderr.trimEnd().split('\n')
  if (lines.length !== 1 || /\n\s+at /.test(r.stderr)) throw new Error(`expected one line on stderr:\n${show(r)}`)
  return lines[0]!
}

export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
