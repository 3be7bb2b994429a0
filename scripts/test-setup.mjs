#!/usr/bin/env node
// Prepares this machine for the test suite. Run by `npm test` (and so by `.ci/run`); idempotent and fast
// when everything is present.
//  1. Debian packages the tests need (traceroute, fping, iproute2, procps, chromium for the dashboard
//     tests driven by playwright-core), installed as root via apt-get when missing.
//  2. The TimescaleDB server for the server lane (test/helpers/server-lane.ts starts a throwaway cluster
//     on it): an installed one is used when PostgreSQL's pg_config and the extension are there; else it is
//     built from the source tarball named by TIMESCALEDB_SRC on Debian's postgresql-15 (about 2.5 min on
//     two cores). A build already installed at the tarball's version is reused, not rebuilt.
//     Without TIMESCALEDB_SRC and without an installed server, the lane is skipped with one loud line
//     (a developer's machine); `.ci/run` sets TIMESCALEDB_SRC and PINGSCOPE_SERVER_LANE=required.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const PG_MAJOR = '15'
const isRoot = process.getuid?.() === 0
const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
let aptUpdated = false

function log(line) {
  console.error(`test-setup: ${line}`)
}

function aptInstall(pkgs) {
  if (pkgs.length === 0) return
  if (!isRoot) {
    log(`missing Debian packages: ${pkgs.join(' ')}`)
    log(`run as root, or: sudo apt-get install -y ${pkgs.join(' ')}`)
    process.exit(1)
  }
  log(`installing ${pkgs.join(' ')} …`)
  if (!aptUpdated) {
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env: aptEnv })
    if (update.status !== 0) log('apt-get update failed; trying the install anyway')
    aptUpdated = true
  }
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env: aptEnv })
}

function missingPackages(needed) {
  return needed.filter((n) => !n.check.some((p) => existsSync(p))).map((n) => n.pkg)
}

aptInstall(
  missingPackages([
    { pkg: 'traceroute', check: ['/usr/bin/traceroute'] },
    { pkg: 'fping', check: ['/usr/bin/fping'] },
    { pkg: 'iproute2', check: ['/usr/sbin/ip', '/usr/bin/ip'] },
    { pkg: 'procps', check: ['/usr/sbin/sysctl', '/sbin/sysctl'] },
    { pkg: 'chromium', check: ['/usr/bin/chromium'] },
  ]),
)

// ---- the TimescaleDB server lane ----

const pgConfigPath = `/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config`

function pgConfig(flag) {
  return execFileSync(pgConfigPath, [flag], { encoding: 'utf8' }).trim()
}

/** The TimescaleDB versions installed for this PostgreSQL (from the extension's SQL install scripts). */
function installedTimescaleVersions() {
  if (!existsSync(pgConfigPath)) return []
  const extDir = path.join(pgConfig('--sharedir'), 'extension')
  const libDir = pgConfig('--pkglibdir')
  if (!existsSync(path.join(extDir, 'timescaledb.control'))) return []
  return execFileSync('ls', [extDir], { encoding: 'utf8' })
    .split('\n')
    .flatMap((f) => /^timescaledb--(\d+\.\d+\.\d+)\.sql$/.exec(f)?.[1] ?? [])
    .filter((v) => existsSync(path.join(libDir, `timescaledb-${v}.so`)))
}

/** The version a source tarball holds, from its file name (timescaledb-2.28.3.tar.gz). */
function tarballVersion(file) {
  const v = /timescaledb-(\d+\.\d+\.\d+)/.exec(path.basename(file))?.[1]
  if (!v) throw new Error(`TIMESCALEDB_SRC=${file}: cannot read a version from the file name (timescaledb-X.Y.Z.tar.gz)`)
  return v
}

function buildTimescale(tarball, version) {
  aptInstall(
    missingPackages([
      { pkg: `postgresql-${PG_MAJOR}`, check: [`/usr/lib/postgresql/${PG_MAJOR}/bin/postgres`] },
      // pg_config alone comes with the client package too; the build needs the server headers.
      { pkg: `postgresql-server-dev-${PG_MAJOR}`, check: [`/usr/include/postgresql/${PG_MAJOR}/server/postgres.h`] },
      { pkg: 'cmake', check: ['/usr/bin/cmake'] },
      { pkg: 'make', check: ['/usr/bin/make'] },
      { pkg: 'gcc', check: ['/usr/bin/gcc'] },
    ]),
  )
  const work = path.join(os.tmpdir(), `pingscope-timescaledb-build-${version}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  log(`building TimescaleDB ${version} from ${tarball} (about 2.5 minutes on two cores) …`)
  const t0 = Date.now()
  execFileSync('tar', ['-xzf', tarball, '-C', work, '--strip-components=1'], { stdio: 'inherit' })
  const quiet = { cwd: work, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PATH: `/usr/lib/postgresql/${PG_MAJOR}/bin:${process.env.PATH}` } }
  execFileSync(
    './bootstrap',
    [
      '-DREGRESS_CHECKS=OFF',
      '-DTAP_CHECKS=OFF',
      '-DWARNINGS_AS_ERRORS=OFF',
      '-DLINTER=OFF',
      '-DUSE_OPENSSL=OFF',
      '-DCMAKE_BUILD_TYPE=Release',
      `-DPG_CONFIG=${pgConfigPath}`,
    ],
    quiet,
  )
  execFileSync('make', ['-C', 'build', `-j${Math.max(1, os.availableParallelism())}`, 'install'], quiet)
  rmSync(work, { recursive: true, force: true })
  log(`TimescaleDB ${version} built and installed in ${Math.round((Date.now() - t0) / 1000)} s`)
}

const src = process.env.TIMESCALEDB_SRC
if (src) {
  if (!existsSync(src)) {
    log(`TIMESCALEDB_SRC=${src} does not exist`)
    process.exit(1)
  }
  const version = tarballVersion(src)
  if (installedTimescaleVersions().includes(version)) log(`TimescaleDB ${version} is installed for PostgreSQL ${PG_MAJOR}: reused`)
  else buildTimescale(path.resolve(src), version)
} else if (installedTimescaleVersions().length === 0) {
  log('*** no TimescaleDB server here and TIMESCALEDB_SRC is not set: the server lane will be SKIPPED ***')
  log('*** set TIMESCALEDB_SRC=…/timescaledb-2.28.3.tar.gz to build one (see README, Development)   ***')
} else if (!existsSync(`/usr/lib/postgresql/${PG_MAJOR}/bin/postgres`)) {
  aptInstall([`postgresql-${PG_MAJOR}`])
}
