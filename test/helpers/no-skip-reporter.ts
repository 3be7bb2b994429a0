import type { Reporter, TestModule } from 'vitest/node'

// A skipped test is a failure: CI runs as root with every dependency installed, so nothing has a reason
// to skip. This reporter turns any skipped or todo test into a failed run.
export default class NoSkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const skipped: string[] = []
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state
        if (state === 'skipped') skipped.push(`${m.moduleId}: ${t.fullName}`)
      }
    }
    if (skipped.length > 0) {
      process.stderr.write(`\n${skipped.length} skipped test(s) — skipping is a failure here:\n${skipped.map((s) => `  ${s}`).join('\n')}\n`)
      process.exitCode = 1
    }
  }
}
