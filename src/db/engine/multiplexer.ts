import type { Socket } from 'node:net'
import {
  ABORT_PARSE,
  CANCEL_REQUEST,
  GSSENC_REQUEST,
  MAX_BIND_PARAMETERS,
  PROTOCOL_V3,
  SSL_REQUEST,
  SYNC,
  declaredParameters,
  errorResponse,
  readyStatus,
  simpleQuery,
  splitMessages,
  startupAnswer,
} from './protocol.js'

// Transaction-level multiplexing of many client connections onto the embedded engine's single backend
// session, as pgbouncer does in transaction mode: a client owns the backend from its first message until
// the backend answers ReadyForQuery with status idle; other clients' messages wait in a queue meanwhile.
// pglite-socket interleaves messages of different connections, which hangs two concurrent transactions.
//
// States, and the steps below that move between them:
//
//   client state  event                                         next state (step)
//   ------------  --------------------------------------------  ------------------------------------------
//   startup       SSLRequest / GSSENCRequest                    startup, answered 'N' (handleStartup)
//   startup       CancelRequest, or a protocol other than 3.0   closed: socket ended (handleStartup)
//   startup       StartupMessage 3.0                            connected: AuthenticationOk, parameters,
//                                                               BackendKeyData, ReadyForQuery I (handleStartup)
//   connected     messages arrive                               queued at the back of `waiting` (enqueue)
//   owner         messages arrive                               owner, idle-in-transaction timer stopped (enqueue)
//   queued        backend idle, first in `waiting`              owner (grantBackend)
//   owner         message run, answer ends in ReadyForQuery I   connected, or queued again at the back if
//                                                               it has sent more (execOne, releaseIfIdle)
//   owner         message run, any other answer (T, E, none)    owner, idle-in-transaction timer armed
//                                                               (execOne, releaseIfIdle)
//   owner         no message for idleInTransactionMs            closed: FATAL 25P03 (armIdleTimer)
//   owner         Parse/Bind declaring > 32,767 parameters      rejecting: ERROR 54023 at once (rejectOversized)
//   rejecting     any message but Sync                          rejecting, message discarded (discardUntilSync)
//   rejecting     Sync                                          pending work aborted on the backend, only its
//                                                               ReadyForQuery sent on, then as owner above
//                                                               (discardUntilSync, abortPending)
//   owner         Terminate                                     closing: socket ended (execOne)
//   any           malformed message length                      closed: FATAL 08P01 (receive)
//   owner         Parse/Bind cut short (no string terminator)   closed: FATAL 08P01, its unfinished work
//                                                               aborted, the backend handed on (execOne)
//   any           socket closed or failed                       closed; an owner's unfinished work is aborted
//                                                               and rolled back, the backend handed on
//                                                               (disconnect, abortInFlight)
//
//   backend  idle (no owner) -> owned (grantBackend) -> idle (releaseIfIdle, or the owner's disconnect).
//            Any state -> fatal when running a message throws: every client gets FATAL XX000 and is
//            dropped, onFatal is called and nothing runs again (failBackend). Failing while aborting a
//            departed owner's work is fatal too (abortInFlight), without the FATAL to the others.

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

/** The multiplexer's state: what a createMultiplexer() call owns, passed to each step. */
interface Mux {
  opts: MultiplexerOptions
  idleInTransactionMs: number
  log: (msg: string) => void
  nextId: number
  /** The client that owns the backend, null while the backend is idle. */
  owner: Client | null
  /** Clients with queued messages waiting for the backend, in order of arrival. */
  waiting: Client[]
  pumping: boolean
  fatal: boolean
  clients: Set<Client>
  stats: { messages: number; transactions: number; rejected: number }
}

export function createMultiplexer(opts: MultiplexerOptions) {
  const mux: Mux = {
    opts,
    idleInTransactionMs: opts.idleInTransactionMs ?? 60_000,
    log: opts.log ?? (() => {}),
    nextId: 1,
    owner: null,
    waiting: [],
    pumping: false,
    fatal: false,
    clients: new Set(),
    stats: { messages: 0, transactions: 0, rejected: 0 },
  }
  return {
    handleConnection(socket: Socket) {
      socket.setNoDelay(true) // without it, delayed ACKs stall the many small protocol writes
      const c: Client = { id: mux.nextId++, socket, buf: Buffer.alloc(0), startup: true, queue: [], rejecting: false, closed: false }
      mux.clients.add(c)
      socket.on('data', (chunk) => receive(mux, c, chunk))
      socket.on('close', () => disconnect(mux, c))
      socket.on('error', () => disconnect(mux, c))
    },
    stats(): MultiplexerStats {
      return { connections: mux.clients.size, waiting: mux.waiting.length, ...mux.stats }
    },
    get connections() {
      return mux.clients.size
    },
  }
}

function write(c: Client, data: Uint8Array) {
  if (!c.closed && data.length > 0) c.socket.write(data)
}

function exec(mux: Mux, msg: Uint8Array): Uint8Array {
  mux.stats.messages++
  return mux.opts.exec(msg)
}

/** Splits a chunk into messages: the start-up handshake is answered here, the rest waits for the backend. */
function receive(mux: Mux, c: Client, chunk: Buffer) {
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
    if (c.startup) handleStartup(mux, c, m)
    else c.queue.push(Buffer.from(m))
  }
  enqueue(mux, c)
  pump(mux)
}

function handleStartup(mux: Mux, c: Client, msg: Buffer) {
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
  c.socket.write(startupAnswer(mux.opts.serverVersion ?? '17.5', c.id))
}

/** Puts a client with queued messages in line for the backend; an owner that spoke is no longer idle. */
function enqueue(mux: Mux, c: Client) {
  if (c.queue.length > 0 && mux.owner !== c && !mux.waiting.includes(c)) mux.waiting.push(c)
  if (mux.owner === c) clearTimeout(c.idleTimer)
}

/** Runs queued messages on the backend, one owner at a time, until nobody has anything ready to run. */
function pump(mux: Mux) {
  if (mux.pumping || mux.fatal) return
  mux.pumping = true
  try {
    for (;;) {
      const c = mux.owner ?? grantBackend(mux)
      if (!c) break
      const msg = c.queue.shift()
      if (!msg) break // the owner is inside a transaction and has not sent its next message yet
      try {
        execOne(mux, c, msg)
      } catch (err) {
        failBackend(mux, err)
        return
      }
    }
  } finally {
    mux.pumping = false
  }
}

function grantBackend(mux: Mux): Client | null {
  mux.owner = mux.waiting.shift() ?? null
  return mux.owner
}

/** Runs one message of the owner `c` and answers it (or answers for the backend, see the state table). */
function execOne(mux: Mux, c: Client, msg: Buffer) {
  const type = String.fromCharCode(msg[0]!)
  if (type === 'X') {
    c.socket.end()
    return
  }
  if (c.rejecting) {
    discardUntilSync(mux, c, type)
    return
  }
  let params: number | null
  try {
    params = declaredParameters(msg)
  } catch (err) {
    // The client's own protocol violation (a Parse or Bind cut short): end that client, as PostgreSQL
    // ends such a connection. Its unfinished work is undone; the backend and everyone else carry on.
    write(c, errorResponse('08P01', `invalid ${type} message: ${err instanceof Error ? err.message : String(err)}`, 'FATAL'))
    c.socket.end()
    disconnect(mux, c)
    return
  }
  if (params !== null && params > MAX_BIND_PARAMETERS) {
    rejectOversized(mux, c, params)
    return
  }
  reply(mux, c, exec(mux, msg))
}

function rejectOversized(mux: Mux, c: Client, params: number) {
  mux.stats.rejected++
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
}

function discardUntilSync(mux: Mux, c: Client, type: string) {
  if (type !== 'S') return
  c.rejecting = false
  // Whatever the client sent before the oversized message may have started work on the backend:
  // fail it there too, so an open transaction is marked failed exactly as a real error would.
  const out = abortPending(mux)
  reply(mux, c, out.subarray(out.length - 6)) // only the ReadyForQuery: the client already has its error
}

/** Fails an unfinished extended-protocol exchange on the backend and syncs; returns the Sync's output. */
function abortPending(mux: Mux): Uint8Array {
  exec(mux, ABORT_PARSE)
  return exec(mux, SYNC)
}

function reply(mux: Mux, c: Client, out: Uint8Array) {
  write(c, out)
  releaseIfIdle(mux, c, out)
}

/** Hands the backend on once the owner's transaction is over; otherwise the owner keeps it, on a timer. */
function releaseIfIdle(mux: Mux, c: Client, out: Uint8Array) {
  if (readyStatus(out) !== 'I') {
    armIdleTimer(mux, c)
    return
  }
  if (mux.owner !== c) return
  clearTimeout(c.idleTimer)
  mux.owner = null
  mux.stats.transactions++
  if (c.queue.length > 0 && !c.closed) mux.waiting.push(c)
}

function armIdleTimer(mux: Mux, c: Client) {
  clearTimeout(c.idleTimer)
  c.idleTimer = setTimeout(() => {
    if (mux.owner !== c || c.queue.length > 0) return
    mux.log(`client ${c.id} idle in transaction for ${mux.idleInTransactionMs} ms: disconnecting it`)
    write(c, errorResponse('25P03', 'terminating connection due to idle-in-transaction timeout', 'FATAL'))
    c.socket.destroy()
  }, mux.idleInTransactionMs)
  c.idleTimer.unref()
}

function failBackend(mux: Mux, err: unknown) {
  mux.fatal = true
  for (const other of mux.clients) {
    write(other, errorResponse('XX000', `embedded engine failed: ${String(err)}`, 'FATAL'))
    other.socket.destroy()
  }
  mux.opts.onFatal(err)
}

function disconnect(mux: Mux, c: Client) {
  if (c.closed) return
  c.closed = true
  mux.clients.delete(c)
  clearTimeout(c.idleTimer)
  const i = mux.waiting.indexOf(c)
  if (i >= 0) mux.waiting.splice(i, 1)
  if (mux.owner === c && !mux.fatal) abortInFlight(mux)
}

/** Undoes whatever the departed owner left open, then hands the backend on. */
function abortInFlight(mux: Mux) {
  try {
    const out = abortPending(mux)
    if (readyStatus(out) !== 'I') exec(mux, simpleQuery('ROLLBACK'))
  } catch (err) {
    mux.fatal = true
    mux.opts.onFatal(err)
    return
  }
  mux.owner = null
  pump(mux)
}
