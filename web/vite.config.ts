import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run build` builds this into web/dist, which `pingscope serve` serves on the API's origin.
// `npx vite --config web/vite.config.ts` runs a dev server that proxies the API to PINGSCOPE_API
// (default http://127.0.0.1:6666), so no CORS set-up is needed in development either.
const api = process.env.PINGSCOPE_API ?? 'http://127.0.0.1:6666'
// The API's first path segments (the dashboard's own routes are /, /login, /target/…, /add, /admin).
const apiRoots = ['auth', 'users', 'tokens', 'targets', 'fleet', 'live', 'health', 'metrics', 'badge', 'docs']
// Shared by the API and the dashboard (/incidents, /incidents/:id, /alerts): a browser's page load
// gets the dashboard, every other request goes to the API (as src/web/web.plugin.ts does).
const sharedRoots = ['incidents', 'alerts']
const pageLoad = (req: { headers: { accept?: string | undefined } }) => (req.headers.accept?.includes('text/html') ? '/index.html' : undefined)

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  // Pages other than the fleet and the login are split off by their dynamic imports (src/app/app.tsx);
  // the bundler's own chunking is kept: no vendor chunk, whose runtime chunk would add a seventh request
  // to a cold load of the fleet (six per host in HTTP/1.1 browsers).
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  server: {
    proxy: Object.fromEntries([
      ...apiRoots.map((r) => [`/${r}`, { target: api, changeOrigin: false, ws: false }]),
      ...sharedRoots.map((r) => [`/${r}`, { target: api, changeOrigin: false, ws: false, bypass: pageLoad }]),
    ]),
  },
})
