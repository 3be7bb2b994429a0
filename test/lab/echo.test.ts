import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import {
  buildEchoReply,
  computeInternetChecksum,
  createDropSchedule,
  parseEchoRequest,
} from '../../scripts/lab/echo.js'
import { createPrng } from '../../src/lib/prng.js'

const raw = createRequire(import.meta.url)('raw-socket') as { createChecksum(...buffers: Buffer[]): number }

function echoRequest(id: number, seq: number, payload: Buffer): Buffer {
  const icmp = Buffer.concat([Buffer.from([8, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff]), payload])
  icmp.writeUInt16BE(computeInternetChecksum(icmp), 2)
  return icmp
}

function ipv4Packet(icmp: Buffer): Buffer {
  const header = Buffer.alloc(20)
  header.writeUInt8(0x45, 0)
  header.writeUInt16BE(20 + icmp.length, 2)
  header.writeUInt8(64, 8)
  header.writeUInt8(1, 9)
  Buffer.from([10, 201, 3, 1, 10, 201, 3, 2]).copy(header, 12)
  return Buffer.concat([header, icmp])
}

describe('internet checksum', () => {
  it('matches the native implementation net-ping uses, for odd and even lengths', () => {
    const random = createPrng(7)
    for (let length = 1; length < 80; length++) {
      const data = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)))
      expect(computeInternetChecksum(data)).toBe(raw.createChecksum(data))
    }
  })
})

describe('echo request parsing and reply', () => {
  const request = echoRequest(0x1234, 0xbeef, Buffer.from('pingscope lab payload'))

  it('extracts the ICMP message of a valid echo request', () => {
    expect(parseEchoRequest(ipv4Packet(request))).toEqual(request)
  })

  it('ignores replies, corrupted requests and non-IPv4 data', () => {
    const reply = buildEchoReply(request)
    const corrupted = Buffer.from(request)
    corrupted.writeUInt8(corrupted.readUInt8(10) ^ 1, 10)
    expect(parseEchoRequest(ipv4Packet(reply))).toBeNull()
    expect(parseEchoRequest(ipv4Packet(corrupted))).toBeNull()
    expect(parseEchoRequest(Buffer.alloc(40, 0x60))).toBeNull()
    expect(parseEchoRequest(ipv4Packet(request).subarray(0, 24))).toBeNull()
  })

  it('builds a reply with the same identifier, sequence and payload and a valid checksum', () => {
    const reply = buildEchoReply(request)
    expect(reply.readUInt8(0)).toBe(0)
    expect(reply.readUInt8(1)).toBe(0)
    expect(reply.subarray(4)).toEqual(request.subarray(4))
    expect(computeInternetChecksum(reply)).toBe(0)
    expect(reply).not.toBe(request)
  })
})

describe('drop schedule', () => {
  const take = (next: () => boolean, n: number) => Array.from({ length: n }, next)

  it('drops exactly round(loss * block) of every block', () => {
    const decisions = take(createDropSchedule({ loss: 0.1, block: 100, seed: 1 }), 2_000)
    for (let start = 0; start < decisions.length; start += 100) {
      expect(decisions.slice(start, start + 100).filter(Boolean)).toHaveLength(10)
    }
    expect(take(createDropSchedule({ loss: 1 / 3, block: 100, seed: 2 }), 100).filter(Boolean)).toHaveLength(33)
    expect(take(createDropSchedule({ loss: 0, block: 10, seed: 3 }), 50).some(Boolean)).toBe(false)
    expect(take(createDropSchedule({ loss: 1, block: 10, seed: 3 }), 50).every(Boolean)).toBe(true)
  })

  it('places the drops by seed: the same seed repeats, another differs', () => {
    const a = take(createDropSchedule({ loss: 0.1, block: 100, seed: 42 }), 300)
    const b = take(createDropSchedule({ loss: 0.1, block: 100, seed: 42 }), 300)
    const c = take(createDropSchedule({ loss: 0.1, block: 100, seed: 43 }), 300)
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
    // Not simply the first ten of each block.
    expect(a.slice(0, 10).every(Boolean)).toBe(false)
  })

  it('rejects impossible settings', () => {
    expect(() => createDropSchedule({ loss: 1.5, block: 100, seed: 1 })).toThrow(RangeError)
    expect(() => createDropSchedule({ loss: 0.1, block: 0, seed: 1 })).toThrow(RangeError)
  })
})
