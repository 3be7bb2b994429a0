// Benchmark: what a newcomer sees. Clones the repository (HEAD of this checkout) into a temporary
// directory, runs `npm install` and `npm start` exactly as the README says, and measures the time until
// GET /health answers 200 (cold: fresh data directory), then stops it and measures a warm restart on the
// existing data directory.
//
//   node dist/scripts/bench/startup.js [--port 6767] [--keep]
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { projectRoot } from '../../src/paths.js'

const opts = new Command()
  .option('--port <n>', 'port for the started server', '6767')
  .option('--keep', 'keep the clone')
  .parse()
  .opts<{ port: string; keep?: boolean }>()

const dir = mkdtempSync(path.join(os.tmpdir(), 'pingscope-clone-'))
const url = `http://127.0.0.1:${opts.port}/health`

async function timeToHealthy(): Promise<{ ms: number; stop: () => Promise<void> }> {
  const t0 = performance.now()
  // `npm start` = build + serve (prestart); its own process group so the stop reaches every child.
  const child = spawn('npm', ['start'], {
    cwd: dir,
    env: { ...process.env, PORT: opts.port, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  })
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`)
    try {
      const res = await fetch(url)
      if (res.ok) break
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const ms = performance.now() - t0
  return {
    ms,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        process.kill(-child.pid!, 'SIGTERM')
      }),
  }
}

try {
  execFileSync('git', ['clone', '--quiet', projectRoot(), dir], { stdio: 'inherit' })
  const t0 = performance.now()
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' })
  const installS = (performance.now() - t0) / 1000
  const cold = await timeToHealthy()
  await cold.stop()
  const warm = await timeToHealthy()
  await warm.stop()
  console.log(`\nstartup benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n`)
  console.log('| step | seconds |')
  console.log('|---|---|')
  console.log(`| \`npm install\` on a fresh clone | ${installS.toFixed(1)} |`)
  console.log(`| \`npm start\` → /health 200, fresh data dir (build + engine + migrations) | ${(cold.ms / 1000).toFixed(1)} |`)
  console.log(`| \`npm start\` → /health 200, existing data dir | ${(warm.ms / 1000).toFixed(1)} |`)
} finally {
  if (!opts.keep) rmSync(dir, { recursive: true, force: true })
}
