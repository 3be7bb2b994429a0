// ICMPv4 echo logic of the lab responder, free of sockets so that it can be tested on its own.

import { createPrng } from '../../src/lib/prng.js'

const ICMP_ECHO_REPLY = 0
const ICMP_ECHO_REQUEST = 8

/** RFC 1071 ones' complement sum; 0 when computed over a message whose checksum is correct. */
export function computeInternetChecksum(data: Uint8Array): number {
  let sum = 0
  for (let i = 0; i + 1 < data.length; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0)
  if (data.length % 2 === 1) sum += (data[data.length - 1] ?? 0) << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

/**
 * The ICMP message of an IPv4 packet (as a raw ICMP socket delivers it, IP header included) if it
 * is an echo request with a valid checksum, else null.
 */
export function parseEchoRequest(packet: Buffer): Buffer | null {
  if (packet.length < 20 || packet.readUInt8(0) >> 4 !== 4) return null
  const headerLength = (packet.readUInt8(0) & 0x0f) * 4
  const end = Math.min(packet.readUInt16BE(2), packet.length)
  if (end - headerLength < 8) return null
  const icmp = packet.subarray(headerLength, end)
  if (icmp.readUInt8(0) !== ICMP_ECHO_REQUEST || icmp.readUInt8(1) !== 0) return null
  return computeInternetChecksum(icmp) === 0 ? icmp : null
}

/** A new echo reply with the request's identifier, sequence number and payload. */
export function buildEchoReply(request: Buffer): Buffer {
  const reply = Buffer.from(request)
  reply.writeUInt8(ICMP_ECHO_REPLY, 0)
  reply.writeUInt16BE(0, 2)
  reply.writeUInt16BE(computeInternetChecksum(reply), 2)
  return reply
}



export interface DropScheduleOptions {
  /** Fraction of requests to drop, 0..1. */
  loss: number
  /** Exactly round(loss * block) of every `block` consecutive requests are dropped. */
  block: number
  seed: number
}

/**
 * Returns a function telling, request by request, whether to drop it. Drops are placed at random
 * (seeded) positions inside each block but their number per block is exact, so the measured loss
 * over whole blocks equals the configured loss instead of merely converging to it.
 */
export function createDropSchedule({ loss, block, seed }: DropScheduleOptions): () => boolean {
  if (!(loss >= 0 && loss <= 1)) throw new RangeError(`loss must be within 0..1, got ${loss}`)
  if (!Number.isInteger(block) || block < 1) throw new RangeError(`block must be a positive integer, got ${block}`)
  const random = createPrng(seed)
  const drops = Math.round(loss * block)
  const current: boolean[] = []
  let next = block
  return () => {
    if (next === block) {
      current.length = 0
      for (let i = 0; i < block; i++) current.push(i < drops)
      for (let i = block - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1))
        const swap = current[i] ?? false
        current[i] = current[j] ?? false
        current[j] = swap
      }
      next = 0
    }
    return current[next++] ?? false
  }
}
