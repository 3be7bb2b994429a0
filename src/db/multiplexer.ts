import type { Socket } from 'node:net'
import {
  CANCEL_REQUEST,
  GSSENC_REQUEST,
  MAX_BIND_PARAMETERS,
  PROTOCOL_V3,
  SSL_REQUEST,
  SYNC,
  authenticationOk,
  backendKeyData,
  declaredParameters,
  errorResponse,
  parameterStatus,
  readyForQuery,
  readyStatus,
  simpleQuery,
  splitMessages,
} from './protocol.js'

// Transaction-level multiplexing of many client connections onto the embedded engine's single backend
// session, as pgbouncer does in transaction mode: a client owns the backend from its first message until
// the backend answers ReadyForQuery with status idle; other clients' messages wait in a queue meanwhile.
// pglite-socket interleaves messages of different connections, which hangs two concurrent transactions.

export interface MultiplexerOptions {
  /** Runs one protocol message on the backend and returns its raw output (synchronous: WebAssembly). */
  exec: (message: Uint8Array) => Uint8Array
  /** Called when the backend itself failed; the engine is unusable and must be restarted. */
  onFatal: (err: unknown) => void
  /** A client that holds a transaction open without sending anything for this long is disconnected. */
  idleInTransactionMs?: number
  serverVersion?: string
  log?: (msg: string) => void
}

interface Client {
  id: number
  socket: Socket
  buf: Buffer
  startup: boolean
  queue: Buffer[]
  // After an oversized Parse/Bind, the client's messages are discarded until its Sync, as the backend does after an error.
  rejecting: boolean
  closed: boolean
  idleTimer?: NodeJS.Timeout
}

export interface MultiplexerStats {
  connections: number
  waiting: number
  messages: number
  transactions: number
  rejected: number
}

// An unparsable statement puts an unfinished extended-protocol exchange into the aborted state,
// so the following Sync rolls it back instead of committing half of it.
const ABORT_PARSE = (() => {
  const body = Buffer.from('\0pingscope: client disconnected\0\0\0', 'utf8')
  const head = Buffer.alloc(5)
  head.write('P', 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
})()

export function createMultiplexer(opts: MultiplexerOptions) {
  const idleInTransactionMs = opts.idleInTransactionMs ?? 60_000
  const log = opts.log ?? (() => {})
  let nextId = 1
  let owner: Client | null = null
  const waiting: Client[] = []
  let pumping = false
  let fatal = false
  const clients = new Set<Client>()
  const stats = { messages: 0, transactions: 0, rejected: 0 }

  function write(c: Client, data: Uint8Array) {
    if (!c.closed && data.length > 0) c.socket.write(data)
  }

  function exec(msg: Uint8Array): Uint8Array {
    stats.messages++
    return opts.exec(msg)
  }

  function release(c: Client) {
    if (owner !== c) return
    clearTimeout(c.idleTimer)
    owner = null
    stats.transactions++
    if (c.queue.length > 0 && !c.closed) waiting.push(c)
  }

  function armIdleTimer(c: Client) {
    clearTimeout(c.idleTimer)
    c.idleTimer = setTimeout(() => {
      if (owner !== c || c.queue.length > 0) return
      log(`client ${c.id} idle in transaction for ${idleInTransactionMs} ms: disconnecting it`)
      write(c, errorResponse('25P03', 'terminating connection due to idle-in-transaction timeout', 'FATAL'))
      c.socket.destroy()
    }, idleInTransactionMs)
    c.idleTimer.unref()
  }

  function handle(c: Client, msg: Buffer) {
    const type = String.fromCharCode(msg[0]!)
    if (type === 'X') {
      c.socket.end()
      return
    }
    if (c.rejecting) {
      if (type !== 'S') return
      c.rejecting = false
      // Whatever the client sent before the oversized message may have started work on the backend:
      // fail it there too, so an open transaction is marked failed exactly as a real error would.
      exec(ABORT_PARSE)
      const out = exec(SYNC)
      finish(c, out.subarray(out.length - 6)) // only the ReadyForQuery: the client already has its error
      return
    }
    const params = declaredParameters(msg)
    if (params !== null && params > MAX_BIND_PARAMETERS) {
      stats.rejected++
      c.rejecting = true
      // Answer at once: a client that described first waits for this before it sends Sync.
      write(
        c,
        errorResponse(
          '54023',
          `statement has ${params} bind parameters; the embedded engine accepts at most ${MAX_BIND_PARAMETERS} ` +
            '(send arrays with unnest() instead)',
        ),
      )
      return
    }
    finish(c, exec(msg))
  }

  function finish(c: Client, out: Uint8Array) {
    write(c, out)
    const status = readyStatus(out)
    if (status === 'I') release(c)
    else armIdleTimer(c)
  }

  function pump() {
    if (pumping || fatal) return
    pumping = true
    try {
      for (;;) {
        if (!owner) {
          owner = waiting.shift() ?? null
          if (!owner) break
        }
        const c: Client = owner
        const msg = c.queue.shift()
        if (!msg) break // the owner is inside a transaction and has not sent its next message yet
        try {
          handle(c, msg)
        } catch (err) {
          fatal = true
          for (const other of clients) {
            write(other, errorResponse('XX000', `embedded engine failed: ${String(err)}`, 'FATAL'))
            other.socket.destroy()
          }
          opts.onFatal(err)
          return
        }
      }
    } finally {
      pumping = false
    }
  }

  function onStartup(c: Client, msg: Buffer) {
    const code = msg.readInt32BE(4)
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      c.socket.write('N') // no encryption on a loopback/Unix socket
      return
    }
    if (code === CANCEL_REQUEST) {
      c.socket.end()
      return
    }
    if (code !== PROTOCOL_V3) {
      c.socket.end(errorResponse('08P01', `unsupported protocol ${code >> 16}.${code & 0xffff}`, 'FATAL'))
      return
    }
    c.startup = false
    c.socket.write(
      Buffer.concat([
        authenticationOk(),
        parameterStatus('server_version', opts.serverVersion ?? '17.5'),
        parameterStatus('server_encoding', 'UTF8'),
        parameterStatus('client_encoding', 'UTF8'),
        parameterStatus('DateStyle', 'ISO, MDY'),
        parameterStatus('integer_datetimes', 'on'),
        parameterStatus('standard_conforming_strings', 'on'),
        parameterStatus('TimeZone', 'UTC'),
        backendKeyData(c.id, 0),
        readyForQuery('I'),
      ]),
    )
  }

  function onData(c: Client, chunk: Buffer) {
    c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk
    let split
    try {
      split = splitMessages(c.buf, c.startup)
    } catch (err) {
      c.socket.end(errorResponse('08P01', String(err), 'FATAL'))
      return
    }
    // Copy: the queue outlives this chunk.
    c.buf = Buffer.from(split.rest)
    for (const m of split.messages) {
      if (c.startup) onStartup(c, m)
      else c.queue.push(Buffer.from(m))
    }
    if (c.queue.length > 0 && owner !== c && !waiting.includes(c)) waiting.push(c)
    if (owner === c) clearTimeout(c.idleTimer)
    pump()
  }

  function onClose(c: Client) {
    if (c.closed) return
    c.closed = true
    clients.delete(c)
    clearTimeout(c.idleTimer)
    const i = waiting.indexOf(c)
    if (i >= 0) waiting.splice(i, 1)
    if (owner === c && !fatal) {
      // Undo whatever the departed client left open, then hand the backend on.
      try {
        exec(ABORT_PARSE)
        const out = exec(SYNC)
        if (readyStatus(out) !== 'I') exec(simpleQuery('ROLLBACK'))
      } catch (err) {
        fatal = true
        opts.onFatal(err)
        return
      }
      owner = null
      pump()
    }
  }

  return {
    handleConnection(socket: Socket) {
      socket.setNoDelay(true) // without it, delayed ACKs stall the many small protocol writes
      const c: Client = { id: nextId++, socket, buf: Buffer.alloc(0), startup: true, queue: [], rejecting: false, closed: false }
      clients.add(c)
      socket.on('data', (chunk) => onData(c, chunk))
      socket.on('close', () => onClose(c))
      socket.on('error', () => onClose(c))
    },
    stats(): MultiplexerStats {
      return { connections: clients.size, waiting: waiting.length, ...stats }
    },
    get connections() {
      return clients.size
    },
  }
}
