import { createInterface } from 'node:readline/promises'
import { UsageError } from './output.js'

// Interactive input: prompts go to stderr (stdout is for results), secrets are not echoed. Without a
// terminal the value is read from stdin instead (`echo "$PW" | pingscope login -u admin`).

export const stdinIsTty = () => process.stdin.isTTY === true

/** All of stdin, for piped passwords and CSV files. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function promptLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  try {
    return (await rl.question(question)).trim()
  } finally {
    rl.close()
  }
}

/** Reads a secret from the terminal without echo (raw mode), handling backspace and Ctrl-C. */
export function promptSecret(question: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin
    process.stderr.write(question)
    stdin.setRawMode(true)
    stdin.resume()
    stdin.setEncoding('utf8')
    let value = ''
    const done = () => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.removeListener('data', onData)
      process.stderr.write('\n')
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done()
          return resolve(value)
        }
        if (ch === '\u0003') {
          done()
          process.exit(130) // Ctrl-C, as a shell would report SIGINT
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}

/** A secret from the flag, else the terminal (no echo), else the first line of stdin. */
export async function readSecret(flagValue: string | undefined, what: string): Promise<string> {
  if (flagValue !== undefined) return flagValue
  if (stdinIsTty()) return promptSecret(`${what[0]!.toUpperCase()}${what.slice(1)}: `)
  const line = (await readStdin()).split(/\r?\n/)[0] ?? ''
  if (!line) throw new UsageError(`no ${what} given: pass it on stdin or run on a terminal to be asked`)
  return line
}

/** Asks y/N on a terminal. */
export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await promptLine(`${question} [y/N] `))
}
