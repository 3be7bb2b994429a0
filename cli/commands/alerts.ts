import type { Command } from 'commander'
import { registerChannels } from './alert-channels.js'
import { registerRules } from './alert-rules.js'
import { registerSilences } from './alert-silences.js'
import type { CliDeps } from '../session.js'

// `pingscope alerts rules|channels|silences …`: the same services, schemas and JSON as /alerts/… in
// the API. Everyone signed in lists; changes need the admin role.

export function registerAlerts(program: Command, deps: CliDeps) {
  const alerts = program
    .command('alerts')
    .description('alert rules, notification channels and silences (see also `pingscope incidents`)')
    .addHelpText('after', '\nExamples:\n  pingscope alerts rules list\n  pingscope alerts channels list\n  pingscope alerts silences list --state active')
  registerRules(alerts, deps)
  registerChannels(alerts, deps)
  registerSilences(alerts, deps)
}
