#!/usr/bin/env node
// Run by `npm run build` after `vite build`: writes a .br (brotli, quality 11) and a .gz (gzip, level 9)
// copy next to every file in web/dist/assets, so that `pingscope serve` sends them as they are
// (@fastify/static's preCompressed, src/web/web.plugin.ts) instead of compressing each answer on the fly
// at a lower level. Source maps are skipped (only developer tools ask for them); index.html is revalidated
// on every load and small: the global compressor handles it.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const assets = fileURLToPath(new URL('../web/dist/assets/', import.meta.url))
let plain = 0
let br = 0
let gz = 0
for (const name of readdirSync(assets)) {
  if (/\.(map|br|gz)$/.test(name)) continue
  const file = path.join(assets, name)
  const body = readFileSync(file)
  const brotli = brotliCompressSync(body, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
  })
  const gzip = gzipSync(body, { level: 9 })
  writeFileSync(`${file}.br`, brotli)
  writeFileSync(`${file}.gz`, gzip)
  plain += body.length
  br += brotli.length
  gz += gzip.length
}
const kb = (n) => `${(n / 1024).toFixed(0)} KB`
console.log(`web/dist/assets precompressed: ${kb(plain)} → ${kb(br)} br, ${kb(gz)} gzip`)
