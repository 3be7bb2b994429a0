import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts the server lane's TimescaleDB cluster (or says loudly that it is skipped).
    globalSetup: ['./test/helpers/server-lane.ts'],
    pool: 'forks',
    // One test file at a time: each starts its own embedded engine (a separate WebAssembly process, which
    // takes the second core), and several files assert timing (RTT medians within 0.3 ms, lag) that a
    // neighbouring 1,000-target test would disturb on a two-core machine.
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    allowOnly: false,
    reporters: ['default', './test/helpers/no-skip-reporter.ts'],
  },
})
