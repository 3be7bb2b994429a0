import { describe, expect, it } from 'vitest'
import { createPeriodic } from '../../src/lib/periodic.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('createPeriodic', () => {
  it('runs passes one after another, never overlapping, and goes on after a failure', async () => {
    let active = 0
    let maxActive = 0
    let passes = 0
    const errors: string[] = []
    const loop = createPeriodic(
      async () => {
        active++
        maxActive = Math.max(maxActive, active)
        passes++
        await sleep(30) // longer than the interval: the next pass still waits for this one
        active--
        if (passes === 2) throw new Error('second pass failed')
      },
      5,
      (err) => errors.push(err.message),
    )
    loop.start()
    loop.start() // a second start does not start a second loop
    await sleep(250)
    await loop.stop()
    expect(maxActive).toBe(1)
    expect(passes).toBeGreaterThanOrEqual(4)
    expect(passes).toBeLessThanOrEqual(8) // ~35 ms a pass in 250 ms
    expect(errors).toEqual(['second pass failed'])
  })

  it('stop() cancels the next pass and waits for the one in progress', async () => {
    let finished = 0
    let started = 0
    const loop = createPeriodic(
      async () => {
        started++
        await sleep(80)
        finished++
      },
      10,
      () => {},
    )
    loop.start()
    await sleep(40) // the first pass is running
    await loop.stop()
    expect([started, finished, loop.stopped]).toEqual([1, 1, true])
    await sleep(60)
    expect(started).toBe(1)
  })
})
