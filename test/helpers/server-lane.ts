import type { TestProject } from 'vitest/node'
import { startCluster, timescaleInstalled } from '../../scripts/lib/timescale-cluster.js'
import { createServerTemplate, ensureEmbeddedTemplate } from './templates.js'

// vitest globalSetup: the server lane's throwaway TimescaleDB cluster, started before the first test file
// and stopped after the last (scripts/test-setup.mjs installed or built TimescaleDB first). Each test
// file creates its own database in it (test/helpers/engines.ts) and drops it when done.
// Without a server: CI (PINGSCOPE_SERVER_LANE=required, set by .ci/run) fails; a developer's machine
// gets one loud line and runs the embedded lane only.
// It also builds the migrated templates that openTestDatabase copies (test/helpers/templates.ts).

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of the lane's maintenance database, or '' when the lane does not run. */
    serverAdminUrl: string
    serverVersion: string
    /** The migrated template database in the lane's cluster ('' without the lane). */
    serverTemplate: string
    /** A migrated embedded data directory (`pgdata`) to copy. */
    embeddedTemplate: string
  }
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  project.provide('embeddedTemplate', await ensureEmbeddedTemplate())
  const lane = process.env.PINGSCOPE_SERVER_LANE
  if (lane === 'off' || !timescaleInstalled()) {
    const why = lane === 'off' ? 'PINGSCOPE_SERVER_LANE=off' : 'no TimescaleDB server installed (set TIMESCALEDB_SRC)'
    if (lane === 'required') throw new Error(`the server lane is required (PINGSCOPE_SERVER_LANE=required), but: ${why}`)
    process.stderr.write(`\n*** SERVER LANE SKIPPED: ${why}. Tests run on the embedded engine only. ***\n\n`)
    project.provide('serverAdminUrl', '')
    project.provide('serverVersion', '')
    project.provide('serverTemplate', '')
    return undefined
  }
  const cluster = await startCluster()
  try {
    project.provide('serverTemplate', await createServerTemplate(cluster.adminUrl))
  } catch (err) {
    cluster.stop()
    throw err
  }
  process.stderr.write(`server lane: PostgreSQL 15 + TimescaleDB ${cluster.timescaleVersion} (${cluster.adminUrl})\n`)
  project.provide('serverAdminUrl', cluster.adminUrl)
  project.provide('serverVersion', cluster.timescaleVersion)
  return () => cluster.stop()
}
