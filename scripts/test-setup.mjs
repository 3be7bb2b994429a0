#!/usr/bin/env node
// Installs the system packages the test suite needs (traceroute, fping, iproute2, procps, and chromium
// for the dashboard tests driven by playwright-core) on Debian,
// as root via apt-get, only when they are missing. Run by `npm test` and `.ci/run`; idempotent and fast
// when everything is present.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const needed = [
  { pkg: 'traceroute', check: '/usr/bin/traceroute' },
  { pkg: 'fping', check: '/usr/bin/fping' },
  { pkg: 'iproute2', check: '/usr/sbin/ip', alt: '/usr/bin/ip' },
  { pkg: 'procps', check: '/usr/sbin/sysctl', alt: '/sbin/sysctl' },
  { pkg: 'chromium', check: '/usr/bin/chromium' },
]

const missing = needed.filter((n) => !existsSync(n.check) && !(n.alt && existsSync(n.alt))).map((n) => n.pkg)
if (missing.length === 0) process.exit(0)

const isRoot = process.getuid?.() === 0
if (!isRoot) {
  console.error(`test-setup: missing Debian packages: ${missing.join(' ')}`)
  console.error(`test-setup: run as root, or: sudo apt-get install -y ${missing.join(' ')}`)
  process.exit(1)
}
console.error(`test-setup: installing ${missing.join(' ')} …`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
if (update.status !== 0) console.error('test-setup: apt-get update failed; trying the install anyway')
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
