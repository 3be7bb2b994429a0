// Just enough of the PostgreSQL v3 wire protocol to front the embedded engine: split a client's byte
// stream into messages, answer the start-up handshake, and recognise ReadyForQuery.
// https://www.postgresql.org/docs/current/protocol-message-formats.html

export const SSL_REQUEST = 80877103
export const GSSENC_REQUEST = 80877104
export const CANCEL_REQUEST = 80877102
export const PROTOCOL_V3 = 196608

/** PGlite reads the Int16 parameter count as signed: more than this poisons the instance. */
export const MAX_BIND_PARAMETERS = 32767

/** Length of the first complete message at `offset`, or 0 if the buffer holds only part of it. */
export function messageLength(buf: Buffer, offset: number, startup: boolean): number {
  const header = startup ? 0 : 1
  if (buf.length - offset < header + 4) return 0
  const len = buf.readInt32BE(offset + header) + header
  if (len < header + 4) throw new Error(`malformed message length ${len}`)
  return buf.length - offset >= len ? len : 0
}

/** Splits off every complete message; returns them and the unconsumed remainder. */
export function splitMessages(buf: Buffer, startup: boolean): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = []
  let offset = 0
  let first = startup
  for (;;) {
    const len = messageLength(buf, offset, first)
    if (len === 0) break
    messages.push(buf.subarray(offset, offset + len))
    offset += len
    first = false
  }
  return { messages, rest: buf.subarray(offset) }
}

/** Transaction status of a buffer that ends with ReadyForQuery ('I', 'T' or 'E'), else null. */
export function readyStatus(out: Uint8Array): 'I' | 'T' | 'E' | null {
  const n = out.length
  if (n < 6) return null
  if (out[n - 6] !== 0x5a || out[n - 5] !== 0 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 5) {
    return null
  }
  const s = String.fromCharCode(out[n - 1]!)
  return s === 'I' || s === 'T' || s === 'E' ? s : null
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8')

export function authenticationOk(): Buffer {
  return message('R', Buffer.from([0, 0, 0, 0]))
}

export function parameterStatus(name: string, value: string): Buffer {
  return message('S', Buffer.concat([cstr(name), cstr(value)]))
}

export function backendKeyData(pid: number, key: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeInt32BE(pid, 0)
  b.writeInt32BE(key, 4)
  return message('K', b)
}

export function readyForQuery(status: 'I' | 'T' | 'E'): Buffer {
  return message('Z', Buffer.from(status, 'latin1'))
}

export function errorResponse(code: string, text: string, severity = 'ERROR'): Buffer {
  return message(
    'E',
    Buffer.concat([
      Buffer.from('S'), cstr(severity),
      Buffer.from('V'), cstr(severity),
      Buffer.from('C'), cstr(code),
      Buffer.from('M'), cstr(text),
      Buffer.from([0]),
    ]),
  )
}

export function simpleQuery(text: string): Buffer {
  return message('Q', cstr(text))
}

export const SYNC = message('S', Buffer.alloc(0))

// An unparsable statement puts an unfinished extended-protocol exchange into the aborted state,
// so the following Sync rolls it back instead of committing half of it.
export const ABORT_PARSE = message('P', Buffer.from('\0pingscope: client disconnected\0\0\0', 'utf8'))

/** The server's whole answer to a StartupMessage: no authentication, the session's settings, ready. */
export function startupAnswer(serverVersion: string, backendId: number): Buffer {
  return Buffer.concat([
    authenticationOk(),
    parameterStatus('server_version', serverVersion),
    parameterStatus('server_encoding', 'UTF8'),
    parameterStatus('client_encoding', 'UTF8'),
    parameterStatus('DateStyle', 'ISO, MDY'),
    parameterStatus('integer_datetimes', 'on'),
    parameterStatus('standard_conforming_strings', 'on'),
    parameterStatus('TimeZone', 'UTC'),
    backendKeyData(backendId, 0),
    readyForQuery('I'),
  ])
}

function skipCString(buf: Buffer, offset: number): number {
  const end = buf.indexOf(0, offset)
  if (end < 0) throw new Error('unterminated string in message')
  return end + 1
}

/**
 * Number of parameters a Parse ('P') or Bind ('B') message declares, read unsigned (the client's view);
 * null for other messages.
 */
export function declaredParameters(msg: Buffer): number | null {
  const type = String.fromCharCode(msg[0]!)
  if (type === 'P') {
    let o = skipCString(msg, 5) // statement name
    o = skipCString(msg, o) // query text
    return msg.readUInt16BE(o)
  }
  if (type === 'B') {
    let o = skipCString(msg, 5) // portal
    o = skipCString(msg, o) // statement
    const formats = msg.readUInt16BE(o)
    o += 2 + formats * 2
    return msg.readUInt16BE(o)
  }
  return null
}

/** The parameters of a start-up message (user, database, application_name …). */
export function startupParameters(msg: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let o = 8
  while (o < msg.length - 1) {
    const k = msg.indexOf(0, o)
    const v = msg.indexOf(0, k + 1)
    if (k < 0 || v < 0) break
    out[msg.toString('utf8', o, k)] = msg.toString('utf8', k + 1, v)
    o = v + 1
  }
  return out
}
