import { describe, expect, it } from 'vitest'
import { diffTargets } from '../../src/probe/target-set.js'
import type { ProbeTarget } from '../../src/targets/targets.repo.js'

// The diff the scheduler applies on every reload, without a database.

const target = (id: number, over: Partial<ProbeTarget> = {}): ProbeTarget => ({
  id,
  address: `127.0.0.${id}`,
  intervalS: 1,
  packets: 1,
  timeoutMs: 1000,
  enabled: true,
  ...over,
})
const running = (...ts: ProbeTarget[]) => new Map(ts.map((t) => [t.id, t]))

describe('diffTargets', () => {
  it('adds every enabled row to an empty set, in row order, and skips disabled ones', () => {
    const rows = [target(3), target(1), target(2, { enabled: false })]
    expect(diffTargets(new Map(), rows)).toEqual({
      changes: [
        { kind: 'added', row: rows[0] },
        { kind: 'added', row: rows[1] },
      ],
      removed: [],
    })
  })

  it('says which kept targets changed address or interval', () => {
    const rows = [target(1), target(2, { address: '::1' }), target(3, { intervalS: 5 }), target(4, { packets: 9 })]
    const { changes, removed } = diffTargets(running(target(1), target(2), target(3), target(4)), rows)
    expect(removed).toEqual([])
    expect(changes).toEqual([
      { kind: 'kept', row: rows[0], addressChanged: false, intervalChanged: false },
      { kind: 'kept', row: rows[1], addressChanged: true, intervalChanged: false },
      { kind: 'kept', row: rows[2], addressChanged: false, intervalChanged: true },
      { kind: 'kept', row: rows[3], addressChanged: false, intervalChanged: false }, // new row object all the same
    ])
  })

  it('removes running targets that were paused or deleted', () => {
    const { changes, removed } = diffTargets(running(target(1), target(2), target(3)), [target(1), target(2, { enabled: false })])
    expect(changes.map((c) => c.row.id)).toEqual([1])
    expect(removed).toEqual([2, 3])
  })

  it('in a fleet, keeps only the targets this probe holds a lease on', () => {
    const rows = [target(1), target(2), target(3), target(4, { enabled: false })]
    const holds = (id: number) => id !== 2
    const { changes, removed } = diffTargets(running(target(1), target(2)), rows, holds)
    expect(changes.map((c) => [c.kind, c.row.id])).toEqual([
      ['kept', 1],
      ['added', 3],
    ])
    expect(removed).toEqual([2]) // leased to another probe: stopped here
  })
})
