import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMultiplexer } from '../../../src/db/engine/multiplexer.js'
import { PROTOCOL_V3, SSL_REQUEST, SYNC, readyForQuery, readyStatus, simpleQuery } from '../../../src/db/engine/protocol.js'

// The multiplexer's state table, row by row, against a scripted backend and in-memory sockets: the
// real engine behind it is covered by engine.test.ts.

function startup(code: number): Buffer {
  const body = Buffer.from('user\0postgres\0\0')
  const head = Buffer.alloc(8)
  head.writeInt32BE(body.length + 8, 0)
  head.writeInt32BE(code, 4)
  return Buffer.concat([head, body])
}

function parse(nParams: number): Buffer {
  const body = Buffer.concat([Buffer.from('\0select 1\0'), Buffer.from([nParams >> 8, nParams & 0xff])])
  const head = Buffer.from([0x50, 0, 0, 0, 0])
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

/** A backend that knows BEGIN, COMMIT, ROLLBACK and THROW, and logs what it ran. */
function createBackend() {
  let status: 'I' | 'T' | 'E' = 'I'
  const ran: string[] = []
  const exec = (m: Uint8Array): Uint8Array => {
    const msg = Buffer.from(m)
    const type = String.fromCharCode(msg[0]!)
    if (type === 'Q') {
      const text = msg.toString('utf8', 5, msg.length - 1)
      ran.push(text)
      if (text === 'THROW') throw new Error('wasm trap')
      if (text === 'BEGIN') status = 'T'
      if (text === 'COMMIT' || text === 'ROLLBACK') status = 'I'
      return Buffer.concat([Buffer.from('C\0\0\0\x05\0'), readyForQuery(status)])
    }
    ran.push(type)
    if (type === 'P' && status === 'T') status = 'E' // the multiplexer's deliberately unparsable statement
    return type === 'S' ? readyForQuery(status) : Buffer.from('1\0\0\0\x04')
  }
  return { exec, ran }
}

function createClient(mux: ReturnType<typeof createMultiplexer>) {
  const socket = Object.assign(new EventEmitter(), {
    out: [] as Buffer[],
    ended: false,
    destroyed: false,
    setNoDelay: () => socket,
    write: (d: Uint8Array | string) => socket.out.push(Buffer.from(d)) > 0,
    end: (d?: Uint8Array) => {
      if (d) socket.out.push(Buffer.from(d))
      socket.ended = true
    },
    destroy: () => {
      socket.destroyed = true
    },
  })
  mux.handleConnection(socket as unknown as Socket)
  const send = (...msgs: Buffer[]) => socket.emit('data', Buffer.concat(msgs))
  const received = () => Buffer.concat(socket.out)
  return { socket, send, received }
}

function setup(idleInTransactionMs = 60_000) {
  const backend = createBackend()
  const onFatal = vi.fn()
  const mux = createMultiplexer({ exec: backend.exec, onFatal, idleInTransactionMs })
  const connect = () => {
    const c = createClient(mux)
    c.send(startup(PROTOCOL_V3))
    c.socket.out.length = 0
    return c
  }
  return { mux, backend, onFatal, connect }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('transaction multiplexer', () => {
  it('answers the start-up handshake itself and declines encryption', () => {
    const { mux, backend } = setup()
    const c = createClient(mux)
    c.send(startup(SSL_REQUEST))
    expect(c.received().toString()).toBe('N')
    c.send(startup(PROTOCOL_V3))
    expect(c.received().toString('latin1')).toContain('server_version')
    expect(readyStatus(c.received())).toBe('I')
    expect(backend.ran).toEqual([])
  })

  it('lends the backend to one transaction at a time and queues the other clients', () => {
    const { mux, backend, connect } = setup()
    const a = connect()
    const b = connect()
    a.send(simpleQuery('BEGIN'))
    b.send(simpleQuery('select b'))
    expect(backend.ran).toEqual(['BEGIN'])
    expect(mux.stats().waiting).toBe(1)
    a.send(simpleQuery('COMMIT'))
    expect(backend.ran).toEqual(['BEGIN', 'COMMIT', 'select b'])
    expect(readyStatus(b.received())).toBe('I')
    expect(mux.stats()).toMatchObject({ waiting: 0, transactions: 2, messages: 3 })
  })

  it('refuses an oversized Parse at once, discards until Sync and fails the open transaction', () => {
    const { mux, backend, connect } = setup()
    const a = connect()
    a.send(simpleQuery('BEGIN'))
    a.socket.out.length = 0
    a.send(parse(40_000))
    expect(a.received().toString()).toContain('54023')
    a.send(parse(1)) // discarded
    a.send(SYNC)
    // the pending work is failed on the backend; the client gets only the ReadyForQuery
    expect(backend.ran).toEqual(['BEGIN', 'P', 'S'])
    expect(a.received().subarray(-6).equals(readyForQuery('E'))).toBe(true)
    expect(mux.stats().rejected).toBe(1)
  })

  it('ends only the client whose Parse is cut short, and the others carry on', () => {
    const { backend, onFatal, connect } = setup()
    const a = connect()
    const b = connect()
    a.send(simpleQuery('BEGIN'))
    b.send(simpleQuery('select b'))
    // A Parse whose query text has no terminator.
    const body = Buffer.from('\0select 1')
    const head = Buffer.from([0x50, 0, 0, 0, 0])
    head.writeInt32BE(body.length + 4, 1)
    a.send(Buffer.concat([head, body]))
    expect(a.received().toString()).toContain('08P01')
    expect(a.socket.ended).toBe(true)
    expect(onFatal).not.toHaveBeenCalled()
    // a's transaction is rolled back, then b runs.
    expect(backend.ran).toEqual(['BEGIN', 'P', 'S', 'ROLLBACK', 'select b'])
    expect(readyStatus(b.received())).toBe('I')
  })

  it('rolls back what a departed owner left open and hands the backend on', () => {
    const { backend, connect } = setup()
    const a = connect()
    const b = connect()
    a.send(simpleQuery('BEGIN'))
    b.send(simpleQuery('select b'))
    a.socket.emit('close')
    expect(backend.ran).toEqual(['BEGIN', 'P', 'S', 'ROLLBACK', 'select b'])
  })

  it('disconnects an owner idle in a transaction', () => {
    vi.useFakeTimers()
    const { connect } = setup(1000)
    const a = connect()
    a.send(simpleQuery('BEGIN'))
    vi.advanceTimersByTime(999)
    expect(a.socket.destroyed).toBe(false)
    vi.advanceTimersByTime(1)
    expect(a.received().toString()).toContain('25P03')
    expect(a.socket.destroyed).toBe(true)
  })

  it('drops every client with FATAL and reports when the backend fails', () => {
    const { backend, onFatal, connect } = setup()
    const a = connect()
    const b = connect()
    a.send(simpleQuery('THROW'))
    expect(onFatal).toHaveBeenCalledOnce()
    for (const c of [a, b]) {
      expect(c.received().toString()).toContain('XX000')
      expect(c.socket.destroyed).toBe(true)
    }
    b.send(simpleQuery('select b'))
    expect(backend.ran).toEqual(['THROW'])
  })
})
