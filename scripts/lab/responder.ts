// Userspace ICMP echo responder for the lab's lossy host (the kernel has no netem here).
// lab.sh runs it inside a namespace with net.ipv4.icmp_echo_ignore_all=1:
//   node --import tsx scripts/lab/responder.ts --delay-ms 20 --loss 0.1 [--block 100] [--seed 1] [--pid-file F]
// Each echo request is answered after delay-ms, except round(loss * block) of every block requests.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { buildEchoReply, createDropSchedule, parseEchoRequest } from './echo.js'

// The native handle behind raw-socket's Socket: synchronous recvfrom/sendto, throwing on errors
// such as EAGAIN.
interface RawSocketWrap {
  recv(buffer: Buffer, received: (buffer: Buffer, bytes: number, source: string) => void): void
  send(buffer: Buffer, offset: number, length: number, address: string, sent: (bytes: number) => void): void
}

interface RawSocket {
  wrap: RawSocketWrap
  on(event: 'message', listener: (packet: Buffer, source: string) => void): this
  on(event: 'error', listener: (error: Error) => void): this
  close(): this
}

interface RawSocketModule {
  createSocket(options: { protocol: number; bufferSize?: number }): RawSocket
  Protocol: { ICMP: number }
}

interface PendingReply {
  due: bigint
  reply: Buffer
  address: string
}

// raw-socket's Socket reads one packet per poll event and queues each send for a later "writable"
// event, which it skips while the socket is readable: under a burst of requests every reply would
// wait one event-loop turn per packet ahead of it. So the responder drains the socket on each
// readable event and calls sendto directly, keeping Socket only for setup and events.
const MAX_DRAIN = 256

// Timing. setTimeout is only good to about a millisecond, so it wakes us up to FINAL_APPROACH_NS
// before a reply is due. From there the event loop keeps turning (requests are still read and
// stamped), and each turn sleeps a short slice in Atomics.wait, which is precise to tens of
// microseconds but blocks, then busy-waits the last SLEEP_OVERSHOOT_NS. Spinning through the whole
// approach instead would keep a core busy and, on a loaded two-core runner, get us descheduled
// for milliseconds.
const FINAL_APPROACH_NS = 2_000_000n
const SLEEP_SLICE_NS = 50_000n
// Atomics.wait oversleeps by the timer slack (50 us by default) plus the wake-up.
const SLEEP_OVERSHOOT_NS = 100_000n
const sleepCell = new Int32Array(new SharedArrayBuffer(4))

function sleepNs(ns: bigint): void {
  Atomics.wait(sleepCell, 0, 0, Number(ns) / 1e6)
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'delay-ms': { type: 'string', default: '20' },
      loss: { type: 'string', default: '0' },
      block: { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      'pid-file': { type: 'string' },
    },
  })
  const delayMs = Number(values['delay-ms'])
  const loss = Number(values.loss)
  const block = Number(values.block)
  const seed = Number(values.seed)
  if (!(delayMs >= 0)) throw new Error(`--delay-ms must be a number >= 0, got ${values['delay-ms']}`)
  if (!(loss >= 0 && loss <= 1)) throw new Error(`--loss must be within 0..1, got ${values.loss}`)
  if (!Number.isInteger(block) || block < 1) throw new Error(`--block must be a positive integer, got ${values.block}`)
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be an integer >= 0, got ${values.seed}`)
  return { delayMs, loss, block, seed, pidFile: values['pid-file'] }
}

function main(): void {
  const options = parseOptions(process.argv.slice(2))
  const raw = createRequire(import.meta.url)('raw-socket') as RawSocketModule
  const socket = raw.createSocket({ protocol: raw.Protocol.ICMP, bufferSize: 65_536 })
  const shouldDrop = createDropSchedule(options)
  const delayNs = BigInt(Math.round(options.delayMs * 1e6))
  const stats = { received: 0, dropped: 0, replied: 0, sendErrors: 0 }

  // Replies are due in arrival order (constant delay), so a FIFO is enough.
  const queue: PendingReply[] = []
  let head = 0
  let armed = false
  // Start of the last approach sleep, until the requests that arrived during it have been read.
  let sleptFrom: bigint | null = null

  const sendReply = ({ reply, address }: PendingReply) => {
    try {
      socket.wrap.send(reply, 0, reply.length, address, () => stats.replied++)
    } catch (error) {
      stats.sendErrors++
      console.error(`send to ${address} failed: ${(error as Error).message}`)
    }
  }

  const sendDue = () => {
    const now = process.hrtime.bigint()
    for (let next = queue[head]; next && next.due <= now; next = queue[head]) {
      sendReply(next)
      head++
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head)
      head = 0
    }
  }

  const flush = () => {
    armed = false
    sendDue()
    const next = queue[head]
    if (!next) return
    const waitNs = next.due - process.hrtime.bigint()
    if (waitNs <= FINAL_APPROACH_NS) {
      if (waitNs > SLEEP_OVERSHOOT_NS) {
        sleptFrom = process.hrtime.bigint()
        sleepNs(minBigInt(waitNs - SLEEP_OVERSHOOT_NS, SLEEP_SLICE_NS))
        // Requests that came in meanwhile are read in the next poll phase; forget the sleep after it.
        setImmediate(() => (sleptFrom = null))
      } else {
        while (process.hrtime.bigint() < next.due) {
          // busy-wait the last few tens of microseconds
        }
      }
      sendDue()
    }
    arm()
  }

  const arm = () => {
    const next = queue[head]
    if (armed || !next) return
    armed = true
    const waitNs = next.due - process.hrtime.bigint()
    if (waitNs > FINAL_APPROACH_NS) setTimeout(flush, Math.floor(Number(waitNs - FINAL_APPROACH_NS) / 1e6))
    else setImmediate(flush)
  }

  // A request read right after an approach sleep arrived at some point during it, not now: take
  // the middle of the sleep, which removes the ~60 us average bias the slices would add.
  const estimateArrival = () => {
    const now = process.hrtime.bigint()
    return sleptFrom === null ? now : (sleptFrom + now) / 2n
  }

  const handlePacket = (packet: Buffer, source: string) => {
    const received = estimateArrival()
    const request = parseEchoRequest(packet)
    if (!request) return
    stats.received++
    if (shouldDrop()) {
      stats.dropped++
      return
    }
    // buildEchoReply copies: the receive buffer is reused for the next packet.
    queue.push({ due: received + delayNs, reply: buildEchoReply(request), address: source })
  }

  const drainBuffer = Buffer.alloc(65_536)
  socket.on('message', (packet, source) => {
    handlePacket(packet, source)
    try {
      for (let i = 0; i < MAX_DRAIN; i++) {
        socket.wrap.recv(drainBuffer, (buffer, bytes, from) => handlePacket(buffer.subarray(0, bytes), from))
      }
    } catch (error) {
      // EAGAIN ends the drain: nothing more to read for now.
      if (!/temporarily unavailable/i.test((error as Error).message)) console.error(`recv failed: ${(error as Error).message}`)
    }
    arm()
  })
  socket.on('error', (error) => {
    console.error(`raw socket error: ${error.message}`)
    process.exit(1)
  })

  const stop = (signal: string) => {
    console.error(`responder stopping on ${signal}: ${JSON.stringify(stats)}`)
    socket.close()
    if (options.pidFile && readPid(options.pidFile) === process.pid) rmSync(options.pidFile, { force: true })
    process.exit(0)
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))

  // The pid file doubles as the readiness signal for lab.sh: the socket is open by now.
  if (options.pidFile) writeFileSync(options.pidFile, `${process.pid}\n`)
  console.error(`responder ${process.pid} ready: ${JSON.stringify({ ...options, pidFile: undefined })}`)
}

function minBigInt(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

function readPid(file: string): number | null {
  try {
    return Number(readFileSync(file, 'utf8').trim())
  } catch {
    return null
  }
}

main()
