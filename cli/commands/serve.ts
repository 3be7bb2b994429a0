import type { Command } from 'commander'
import type { Config } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { startServer } from '../../src/server.js'

export function registerServe(program: Command, getConfig: () => Config) {
  program
    .command('serve')
    .description('run the API, dashboard, probe scheduler and (without DATABASE_URL) the embedded database')
    .addHelpText('after', '\nExamples:\n  pingscope serve\n  PORT=8080 DATA_DIR=/var/lib/pingscope pingscope serve')
    .action(async () => {
      const config = getConfig()
      const log = createLogger(config.logLevel)
      const server = await startServer(config, log)
      let signalled = false
      const stop = (signal: string) => {
        if (signalled) return
        signalled = true
        log.info({ signal }, 'stopping')
        server.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, 'error while stopping')
            process.exit(1)
          },
        )
      }
      process.on('SIGTERM', () => stop('SIGTERM'))
      process.on('SIGINT', () => stop('SIGINT'))
    })
}
