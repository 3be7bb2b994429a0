import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { type Evaluator, type EvaluatorStats, createEvaluator } from './evaluator.js'
import { type Sender, type SenderStats, createSender } from './sender.js'

// Alerting as `pingscope serve` runs it (ALERTS_ENABLED): the evaluator and the sender, started and
// stopped together.

export interface Alerting {
  evaluator: Evaluator
  sender: Sender
  status(): AlertingStatus
  stop(): Promise<void>
}

/** What this process's alerting reports to /health and /metrics (null parts: not running here). */
export interface AlertingStatus {
  evaluator: EvaluatorStats | null
  sender: SenderStats | null
}

export function startAlerting(opts: { sql: Sql; log: Logger; evalMs: number; groupWaitMs: number }): Alerting {
  const log = opts.log.child({ part: 'alerts' })
  const evaluator = createEvaluator({ sql: opts.sql, log, intervalMs: opts.evalMs, groupWaitMs: opts.groupWaitMs })
  const sender = createSender({ sql: opts.sql, log })
  evaluator.start()
  sender.start()
  return {
    evaluator,
    sender,
    status: () => ({ evaluator: evaluator.stats(), sender: sender.stats() }),
    async stop() {
      await evaluator.stop()
      await sender.stop()
    },
  }
}
