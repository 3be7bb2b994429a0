import { memo } from 'react'

// A last-hour latency sparkline as one SVG path (cheap enough for every visible row), with lossy
// buckets as red bars from the bottom, as high as their loss (a fully lost bucket fills the height: a
// down target shows a wall of red, not "no data"). Gaps stay gaps.

const W = 120
const H = 26

export const Sparkline = memo(function Sparkline({ values, loss }: { values: (number | null)[]; loss: (number | null)[] }) {
  const n = values.length
  const lossy = loss.some((l) => l !== null && l > 0)
  if (!n || (values.every((v) => v === null) && !lossy)) return <span className="muted">no data</span>
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (v === null) continue
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  if (lo === Infinity) lo = hi = 0 // every echo lost: loss bars only
  const span = hi - lo || hi || 1
  const x = (i: number) => (n === 1 ? W / 2 : (i / (n - 1)) * (W - 2) + 1)
  const y = (v: number) => H - 4 - ((v - lo) / span) * (H - 8)
  let d = ''
  let pen = false
  values.forEach((v, i) => {
    // A bucket without echoes (a target probed less often than the buckets) is bridged; one whose
    // echoes were all lost breaks the line.
    if (v === null) {
      if (loss[i] !== null && loss[i] !== undefined) pen = false
      return
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`
    pen = true
  })
  const bw = Math.max(2, W / n - 1)
  const replies = values.some((v) => v !== null)
  const maxLoss = Math.max(0, ...loss.map((l) => l ?? 0))
  const label = replies
    ? `latency ${lo.toFixed(2)}–${hi.toFixed(2)} ms over the last hour${maxLoss > 0 ? `, up to ${Math.round(maxLoss * 100)} % loss` : ''}`
    : `no reply over the last hour: up to ${Math.round(maxLoss * 100)} % loss`
  const barH = (l: number) => Math.max(3, l * (H - 2))
  return (
    <svg className="sparkline" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} data-max-loss={maxLoss}>
      {loss.map((l, i) => (l ? <rect key={i} x={x(i) - bw / 2} y={H - barH(l)} width={bw} height={barH(l)} className="spark-loss" /> : null))}
      <path d={d} className="spark-line" />
      {values.filter((v) => v !== null).length === 1 && values.map((v, i) => (v !== null ? <circle key={`p${i}`} cx={x(i)} cy={y(v)} r={1.5} className="spark-dot" /> : null))}
    </svg>
  )
})
