import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AgentTarget } from './agent.schema.js'
import { writeDurably } from './disk-buffer.js'

// What the agent keeps in AGENT_DATA_DIR besides its batches: its name (so a restarted agent is the same
// member of the fleet), its tenure in `probes` (so a restart resumes it instead of waiting 3 heartbeats
// for its own old row), and its last assignment (so it probes on when it starts while the server is
// unreachable). A lock file keeps a second agent off the same directory.

export interface Assignment {
  site: string
  heartbeatMs: number
  liveProbes: number
  /** Wall-clock ms when the heartbeat that renewed these leases was sent. */
  renewedAt: number
  targets: AgentTarget[]
}

export interface AgentState {
  name: string
  session: { id: number; started_at: string } | null
  assignment: Assignment | null
}

const STATE_FILE = 'agent-state.json'
const LOCK_FILE = 'agent.lock'

/** A name for a new agent: the host's, and a random suffix kept in the state file from then on. */
export const newAgentName = () => `agent-${os.hostname().replace(/[^A-Za-z0-9._:@-]/g, '-').slice(0, 60)}-${randomBytes(3).toString('hex')}`

export function readState(dataDir: string): AgentState | null {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, STATE_FILE), 'utf8')) as AgentState
  } catch {
    return null
  }
}

export const saveState = (dataDir: string, s: AgentState): Promise<void> => writeDurably(path.join(dataDir, STATE_FILE), JSON.stringify(s))

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError'
}

/** Takes the data directory for this process; throws when a live agent holds it. Returns the release. */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE)
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' })
      return () => rmSync(file, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
      const pid = Number(readFileSync(file, 'utf8'))
      if (pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirInUseError(`another agent (pid ${pid}) uses ${dataDir}: give each agent its own AGENT_DATA_DIR`)
      rmSync(file, { force: true }) // left by an agent that is gone
    }
  }
}
