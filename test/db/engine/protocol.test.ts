import { describe, expect, it } from 'vitest'
import {
  SYNC,
  declaredParameters,
  errorResponse,
  readyForQuery,
  readyStatus,
  simpleQuery,
  splitMessages,
  startupParameters,
} from '../../../src/db/engine/protocol.js'

function startup(params: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`)]),
    Buffer.from([0]),
  ])
  const head = Buffer.alloc(8)
  head.writeInt32BE(body.length + 8, 0)
  head.writeInt32BE(196608, 4)
  return Buffer.concat([head, body])
}

function bind(nParams: number, nFormats = 1): Buffer {
  const parts = [Buffer.from('portal\0stmt\0')]
  const f = Buffer.alloc(2 + nFormats * 2)
  f.writeUInt16BE(nFormats, 0)
  parts.push(f)
  const p = Buffer.alloc(2)
  p.writeUInt16BE(nParams, 0)
  parts.push(p)
  const body = Buffer.concat(parts)
  const head = Buffer.alloc(5)
  head.write('B', 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

describe('wire protocol framing', () => {
  it('splits a stream into whole messages and keeps the partial tail', () => {
    const q1 = simpleQuery('select 1')
    const q2 = simpleQuery('select 2')
    const stream = Buffer.concat([q1, SYNC, q2])
    const { messages, rest } = splitMessages(stream.subarray(0, stream.length - 3), false)
    expect(messages).toHaveLength(2)
    expect(messages[0]!.equals(q1)).toBe(true)
    expect(messages[1]!.equals(SYNC)).toBe(true)
    expect(rest.length).toBe(q2.length - 3)
    const again = splitMessages(Buffer.concat([rest, stream.subarray(stream.length - 3)]), false)
    expect(again.messages[0]!.equals(q2)).toBe(true)
    expect(again.rest.length).toBe(0)
  })

  it('reads the start-up message (no type byte) before regular ones', () => {
    const s = startup({ user: 'postgres', database: 'pingscope' })
    const { messages } = splitMessages(Buffer.concat([s, SYNC]), true)
    expect(messages).toHaveLength(2)
    expect(startupParameters(messages[0]!)).toEqual({ user: 'postgres', database: 'pingscope' })
  })

  it('rejects an impossible length instead of looping', () => {
    const bad = Buffer.from([0x51, 0, 0, 0, 1])
    expect(() => splitMessages(bad, false)).toThrow(/malformed/)
  })

  it('recognises ReadyForQuery and its transaction status only at the end of output', () => {
    expect(readyStatus(Buffer.concat([errorResponse('42601', 'x'), readyForQuery('E')]))).toBe('E')
    expect(readyStatus(readyForQuery('I'))).toBe('I')
    expect(readyStatus(readyForQuery('T'))).toBe('T')
    expect(readyStatus(Buffer.concat([readyForQuery('I'), simpleQuery('x')]))).toBeNull()
    expect(readyStatus(Buffer.alloc(0))).toBeNull()
  })

  it('reads parameter counts of Bind unsigned, past the format codes', () => {
    expect(declaredParameters(bind(3))).toBe(3)
    expect(declaredParameters(bind(40000, 2))).toBe(40000)
    expect(declaredParameters(bind(65535, 0))).toBe(65535)
    expect(declaredParameters(simpleQuery('select 1'))).toBeNull()
  })
})
