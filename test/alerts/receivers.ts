import { createHmac, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import { SMTPServer } from 'smtp-server'

// Real receivers on loopback for the delivery tests: an HTTP server that checks the webhook signature
// as API_GUIDE.md tells a receiver to, and an SMTP server (smtp-server). Both listen on 127.0.0.1 only.

export interface HttpRequestSeen {
  path: string
  headers: http.IncomingHttpHeaders
  body: string
  /** The X-Pingscope-Signature header matched the HMAC of the raw body (webhook path only). */
  signatureValid: boolean
  status: number
}

export interface HttpReceiver {
  port: number
  requests: HttpRequestSeen[]
  /** The statuses to answer the next requests with (then 200). */
  failNext: number[]
  close(): Promise<void>
}

/** Checks `X-Pingscope-Signature: sha256=<hex>` against the raw body, in constant time. */
export function verifySignature(raw: Buffer, header: string | undefined, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`)
  const got = Buffer.from(header ?? '')
  return got.length === expected.length && timingSafeEqual(got, expected)
}

export async function startHttpReceiver(port: number, secret: string): Promise<HttpReceiver> {
  const requests: HttpRequestSeen[] = []
  const failNext: number[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const status = failNext.shift() ?? 200
      requests.push({
        path: req.url ?? '',
        headers: req.headers,
        body: raw.toString('utf8'),
        signatureValid: verifySignature(raw, req.headers['x-pingscope-signature'] as string | undefined, secret),
        status,
      })
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    port,
    requests,
    failNext,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface MailSeen {
  from: string
  to: string[]
  subject: string
  /** The text body, quoted-printable decoded. */
  text: string
}

/** Undoes quoted-printable (nodemailer's choice for text with non-ASCII characters or long lines). */
function decodeQuotedPrintable(s: string): string {
  const bytes: number[] = []
  const joined = s.replace(/=\r?\n/g, '')
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? /^[0-9A-F]{2}/.exec(joined.slice(i + 1, i + 3)) : null
    if (hex) {
      bytes.push(parseInt(hex[0], 16))
      i += 2
    } else bytes.push(...Buffer.from(joined[i]!, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}

function parseMail(raw: string, from: string, to: string[]): MailSeen {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const body = raw.slice(split + 4)
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1] ?? ''
  const qp = /quoted-printable/i.test(header('Content-Transfer-Encoding'))
  // An encoded-word subject (=?UTF-8?Q?…?=) when it has non-ASCII characters.
  const subject = header('Subject').replace(/=\?utf-8\?([QB])\?(.*?)\?=\s*/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  )
  return { from, to, subject, text: qp ? decodeQuotedPrintable(body) : body }
}

export interface SmtpReceiver {
  port: number
  mails: MailSeen[]
  close(): Promise<void>
}

/** A plain-text SMTP server (no STARTTLS, no AUTH) on 127.0.0.1 that keeps every message. */
export async function startSmtpReceiver(port: number): Promise<SmtpReceiver> {
  const mails: MailSeen[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
        mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), from, session.envelope.rcptTo.map((r) => r.address)))
        callback()
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
