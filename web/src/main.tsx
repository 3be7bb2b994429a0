import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app/app'
import { AppProvider } from './app/provider'
import './styles/index.css'

// Read by the benchmark (scripts/bench/fleet.ts): the bundle has loaded and its modules have run.
performance.mark('pingscope:bundle-run')

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppProvider>
      <App />
    </AppProvider>
  </StrictMode>,
)
