// Userspace ICMP echo responder for the lab's lossy and sites hosts (the kernel has no netem here).
// lab.sh runs it inside a namespace with net.ipv4.icmp_echo_ignore_all=1:
//   node --import tsx scripts/lab/responder.ts --delay-ms 20 --loss 0.1 [--block 100] [--seed 1] [--pid-file F]
//     [--delay-by-source 10.201.20.0/24=2,10.201.21.0/24=7]
// Each echo request is answered after delay-ms, except round(loss * block) of every block requests.
// With --delay-by-source, a request whose source lies in one of the listed IPv4 prefixes is answered
// after that prefix's delay instead (the first prefix that matches wins).
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

/** Replies of one delay: due in arrival order, so a FIFO each. */
interface Lane {
  queue: PendingReply[]
  head: number
}

interface SourceDelay {
  network: number
  mask: number
  delayNs: bigint
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
      'delay-by-source': { type: 'string', default: '' },
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
  const delayBySourceSpec = values['delay-by-source']
  const delayBySource = parseDelayBySource(delayBySourceSpec)
  return { delayMs, loss, block, seed, pidFile: values['pid-file'], delayBySource, delayBySourceSpec }
}

function parseIpv4(text: string): number | null {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null
  return parts.reduce((n, p) => n * 256 + Number(p), 0)
}

/** `10.201.20.0/24=2,10.201.21.0/24=7`: source prefix = delay in ms; '' for none. */
function parseDelayBySource(spec: string): SourceDelay[] {
  if (spec.trim() === '') return []
  return spec.split(',').map((entry) => {
    const match = /^\s*([\d.]+)\/(\d{1,2})\s*=\s*([\d.]+)\s*$/.exec(entry)
    const address = match ? parseIpv4(match[1]!) : null
    const bits = Number(match?.[2])
    const delayMs = Number(match?.[3])
    if (address === null || !(bits <= 32) || !(delayMs >= 0)) {
      throw new Error(`--delay-by-source: expected <IPv4>/<bits>=<ms>[,...], got '${entry}'`)
    }
    // >>> 0 keeps the arithmetic unsigned; a /0 mask is 0 (the shift by 32 would be a shift by 0).
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
    return { network: (address & mask) >>> 0, mask, delayNs: BigInt(Math.round(delayMs * 1e6)) }
  })
}

function main(): void {
  const options = parseOptions(process.argv.slice(2))
  const raw = createRequire(import.meta.url)('raw-socket') as RawSocketModule
  const socket = raw.createSocket({ protocol: raw.Protocol.ICMP, bufferSize: 65_536 })
  const shouldDrop = createDropSchedule(options)
  const delayNs = BigInt(Math.round(options.delayMs * 1e6))
  const stats = { received: 0, dropped: 0, replied: 0, sendErrors: 0 }

  const delayOf = (source: string): bigint => {
    if (options.delayBySource.length === 0) return delayNs
    const address = parseIpv4(source)
    if (address === null) return delayNs
    return options.delayBySource.find((d) => ((address & d.mask) >>> 0) === d.network)?.delayNs ?? delayNs
  }

  // One lane per delay: inside a lane replies are due in arrival order, so the next reply due is at the
  // head of one of the (few) lanes.
  const lanes = new Map<bigint, Lane>()
  const laneOf = (delay: bigint): Lane => {
    let lane = lanes.get(delay)
    if (!lane) lanes.set(delay, (lane = { queue: [], head: 0 }))
    return lane
  }
  const nextLane = (): Lane | null => {
    let best: Lane | null = null
    for (const lane of lanes.values()) {
      const due = lane.queue[lane.head]?.due
      if (due !== undefined && (best === null || due < best.queue[best.head]!.due)) best = lane
    }
    return best
  }
  const peek = (): PendingReply | undefined => {
    const lane = nextLane()
    return lane?.queue[lane.head]
  }
  // The due time flush is armed for (null: not armed), and how to disarm it.
  let armedFor: bigint | null = null
  let disarm = () => {}
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
    for (let lane = nextLane(); lane && lane.queue[lane.head]!.due <= now; lane = nextLane()) {
      sendReply(lane.queue[lane.head]!)
      lane.head++
    }
    for (const lane of lanes.values()) {
      if (lane.head > 1024 && lane.head * 2 > lane.queue.length) {
        lane.queue.splice(0, lane.head)
        lane.head = 0
      }
    }
  }

  const flush = () => {
    armedFor = null
    sendDue()
    const next = peek()
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
    const next = peek()
    if (!next) return
    // With delays by source, a new request may be due before the reply flush is armed for.
    if (armedFor !== null) {
      if (armedFor <= next.due) return
      disarm()
    }
    armedFor = next.due
    const waitNs = next.due - process.hrtime.bigint()
    if (waitNs > FINAL_APPROACH_NS) {
      const timer = setTimeout(flush, Math.floor(Number(waitNs - FINAL_APPROACH_NS) / 1e6))
      disarm = () => clearTimeout(timer)
    } else {
      const immediate = setImmediate(flush)
      disarm = () => clearImmediate(immediate)
    }
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
    const delay = delayOf(source)
    laneOf(delay).queue.push({ due: received + delay, reply: buildEchoReply(request), address: source })
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
  const { delayMs, loss, block, seed, delayBySourceSpec } = options
  console.error(`responder ${process.pid} ready: ${JSON.stringify({ delayMs, loss, block, seed, delayBySource: delayBySourceSpec })}`)
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
