import { useState } from 'react'
import { ConfirmDialog } from '../../../components/confirm-dialog'
import { isDocumentationAddress } from '../../../lib/status'

/**
 * Resume, asking first for a documentation address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
 * 2001:db8::/32): seeded history uses them, paused; resuming one sends echoes to an address no host
 * should have, and its state turns down.
 */
export function ResumeButton({ ip, name, busy, onResume }: { ip: string; name: string; busy: boolean; onResume: () => void }) {
  const [asking, setAsking] = useState(false)
  const seeded = isDocumentationAddress(ip)
  return (
    <>
      <button type="button" onClick={() => (seeded ? setAsking(true) : onResume())} disabled={busy}>
        Resume
      </button>
      {/* Mounted only while asking: ConfirmDialog titles share one element id with the page's other dialogs. */}
      {asking && (
        <ConfirmDialog
          open
          title={`Resume ${name}?`}
          confirmLabel="Resume anyway"
          busy={busy}
          onCancel={() => setAsking(false)}
          onConfirm={() => {
            setAsking(false)
            onResume()
          }}
        >
          <p>
            {ip} is a documentation address (RFC 5737 / RFC 3849), as seeded demo targets use: no real host answers it. Resuming sends it echoes, and it
            will show as down.
          </p>
        </ConfirmDialog>
      )}
    </>
  )
}
