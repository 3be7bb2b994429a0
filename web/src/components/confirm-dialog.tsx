import { type ReactNode, useEffect, useRef } from 'react'

// Modals on the native <dialog>: focus moves into it and back, Escape cancels.

/** Opens and closes a <dialog> as a modal with `open`. */
function useModal(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (open && !d.open) d.showModal()
    if (!open && d.open) d.close()
  }, [open])
  return ref
}

export function ConfirmDialog(props: {
  open: boolean
  title: string
  children: ReactNode
  confirmLabel: string
  danger?: boolean
  busy?: boolean
  onConfirm: () => void
  onCancel: () => void
}) {
  const ref = useModal(props.open)
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="confirm-title" onCancel={(e) => (e.preventDefault(), props.onCancel())}>
      <h2 id="confirm-title">{props.title}</h2>
      <div className="dialog-body">{props.children}</div>
      <div className="dialog-actions">
        <button type="button" onClick={props.onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  )
}

/** A modal holding a form (edit target). */
export function FormDialog(props: { open: boolean; title: string; children: ReactNode; onClose: () => void }) {
  const ref = useModal(props.open)
  return (
    <dialog ref={ref} className="dialog dialog-wide" aria-labelledby="form-dialog-title" onCancel={(e) => (e.preventDefault(), props.onClose())}>
      <h2 id="form-dialog-title">{props.title}</h2>
      {props.open && props.children}
    </dialog>
  )
}
