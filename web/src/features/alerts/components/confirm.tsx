import { type ReactElement, useState } from 'react'
import { ConfirmDialog } from '../../../components/confirm-dialog'

// One confirmation dialog for the whole alerts page (its title names the dialog: one per page keeps
// that name unique), asked for by each section.

export interface Confirmation {
  title: string
  body: string
  label: string
  run: () => Promise<unknown>
}
export type Confirm = (c: Confirmation) => void

export function useConfirm(): [Confirm, ReactElement] {
  const [asking, setAsking] = useState<Confirmation | null>(null)
  const [busy, setBusy] = useState(false)
  const dialog = (
    <ConfirmDialog
      open={asking !== null}
      title={asking?.title ?? ''}
      confirmLabel={asking?.label ?? 'OK'}
      danger
      busy={busy}
      onCancel={() => setAsking(null)}
      onConfirm={() => {
        if (!asking) return
        setBusy(true)
        // The section shows a failure (its mutation's error); the dialog closes either way.
        void asking
          .run()
          .catch(() => undefined)
          .finally(() => {
            setBusy(false)
            setAsking(null)
          })
      }}
    >
      <p>{asking?.body}</p>
    </ConfirmDialog>
  )
  return [setAsking, dialog]
}
