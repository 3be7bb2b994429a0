import type { Command } from 'commander'
import { listSiteSummaries } from '../../src/sites/sites.repo.js'
import { formatTable, shortTime } from '../output.js'
import { type CliDeps, action } from '../session.js'

// `pingscope sites`: the vantage points, as GET /sites lists them.

export function registerSites(program: Command, deps: CliDeps) {
  program
    .command('sites')
    .description('list the sites (vantage points) with their probes and the enabled targets each probes')
    .addHelpText('after', '\nA site is added when a probe of it (PROBE_SITE) first starts; "default" always exists.\n\nExamples:\n  pingscope sites\n  pingscope sites --json')
    .action(
      action(deps, 'read', async (s) => {
        const docs = await listSiteSummaries(s.sql)
        s.out.emit(
          docs,
          (rows) =>
            formatTable(
              rows,
              [
                { header: 'NAME', value: (x) => x.name },
                { header: 'LIVE PROBES', value: (x) => x.live_probes, align: 'right', style: (t, x) => (x.live_probes === 0 && x.targets > 0 ? s.out.c.yellow(t) : t) },
                { header: 'PROBES', value: (x) => x.probes, align: 'right' },
                { header: 'TARGETS', value: (x) => x.targets, align: 'right' },
                { header: 'CREATED', value: (x) => shortTime(x.created_at) },
              ],
              s.out.c,
            ),
          (rows) => rows.map((x) => x.name).join('\n'),
        )
      }),
    )
}
