import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { type Evaluator, createEvaluator } from './evaluator.js'
import { type Sender, createSender } from './sender.js'

// Alerting as `pingscope serve` runs it (ALERTS_ENABLED): the evaluator and the sender, started and
// stopped together.

export interface Alerting {
  evaluator: Evaluator
  sender: Sender
  stop(): Promise<void>
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
    async stop() {
      await evaluator.stop()
      await sender.stop()
    },
  }
}
