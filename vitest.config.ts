import { configDefaults, defineConfig } from 'vitest/config'

// Files that must run alone: they assert timing (RTT medians within 0.3 ms, scheduler lag, "within 2 s",
// answers under a bound) that a CPU-heavy neighbour would disturb on a two-core machine, drive the
// network lab's namespaces, Chromium or `pingscope serve`, or freeze the whole server cluster.
// Everything else asserts no timing and shares nothing but the server cluster (each test has its own
// database in it) and runs two files at a time.
const SERIAL = [
  'test/agent/agent.test.ts', // `serve` + remote agent × 20 targets at 1 s; every slot probed once across restarts
  'test/alerts/delivery.test.ts', // a sender's 800 ms lease must still hold at its next tick
  'test/alerts/lab.test.ts', // lab namespaces; `serve` on the real clock, incidents timed to the second
  'test/api/live.test.ts', // live stream ends "at once" (< 2 s), loopback RTT bounds
  'test/api/samples.test.ts', // requests answer < 1 s during a paused export, first chunk early
  'test/cli-serve.test.ts', // `serve` probes 50 targets for 3 s and counts rounds
  'test/cli/flow.test.ts', // `serve` + lab chain; first sample within 3 s of the command
  'test/lab/lab.test.ts', // namespaces; lossy host median within 0.3 ms
  'test/probe/fleet.test.ts', // 3 `serve` × 300 targets at 1 s; failover within 3 heartbeats
  'test/probe/leases.test.ts', // lease handover within 3 heartbeats of 500 ms (+ 2 s)
  'test/probe/probe-only.test.ts', // `serve` + `probe` × 60 targets at 1 s; handover within 2 rounds
  'test/probe/lossy.test.ts', // median RTT within 0.3 ms, loss within 0.5 pp
  'test/probe/outages.test.ts', // lab namespaces; outage closed within 3 s
  'test/probe/scheduler.test.ts', // microsecond RTTs, changes followed within 2 s
  'test/probe/sites.test.ts', // lab sites namespaces; per-site p50 difference within 0.3 ms
  'test/probe/writer-outage.test.ts', // 1,000 targets at 1 s; SIGSTOPs the whole server cluster for 30 s
  'test/traceroute/traceroute.test.ts', // lab chain; timeouts measured to 100 ms
  'test/web/dashboard.test.ts', // Chromium, `serve`, lab chain; fleet interactive < 5 s
  'test/web/charts.test.ts', // Chromium, `serve`; chart geometry, URL round trips
  'test/web/state.test.ts', // Chromium, `serve`, live loopback targets; status agreement
  'test/web/incidents.test.ts', // Chromium, `serve` with alerting on a silent lab host
  'test/web/paths.test.ts', // Chromium, `serve`, lab chain traced on a schedule
  'test/web/status-page.test.ts', // Chromium, `serve`; the public page shown within the default waits
  'test/web/compare.test.ts', // Chromium, `serve`; chart data and URL round trips
  'test/web/bundle.test.ts', // Chromium, `serve`; requests of a cold load
]

const shared = {
  pool: 'forks',
  testTimeout: 60_000,
  hookTimeout: 120_000,
  allowOnly: false,
  // expect.poll waits for an outcome (a page drawn, a row stored); on two loaded cores 1 s (vitest's
  // default) is too short for a cold page, so it waits up to 10 s. A wrong outcome still fails, later.
  expect: { poll: { timeout: 10_000, interval: 100 } },
} as const

export default defineConfig({
  test: {
    // Starts the server lane's TimescaleDB cluster (or says loudly that it is skipped) and builds the
    // migrated templates every test database is copied from (test/helpers/templates.ts). Projects do not
    // inherit it (no `extends`), so it runs once for the whole run; they inherit what it provides.
    globalSetup: ['./test/helpers/server-lane.ts'],
    reporters: ['default', './test/helpers/no-skip-reporter.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'parallel',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SERIAL],
          // Two files at a time: each test process mostly waits on its engine (a WebAssembly process or a
          // server backend), so two of them keep both cores busy.
          maxWorkers: 2,
        },
      },
      {
        test: {
          ...shared,
          name: 'serial',
          include: SERIAL,
          // One file at a time, after the parallel group has finished (vitest runs a project with one
          // worker and no group order last, in a group of its own): nothing else runs beside them.
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
})
