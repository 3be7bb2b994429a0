import { type InputHTMLAttributes, type ReactNode, useId } from 'react'

// A labelled input with its error (from the API's 422 `detail[].loc`) announced and linked.

export function Field({
  label,
  error,
  hint,
  children,
  ...input
}: { label: string; error?: string | undefined; hint?: ReactNode; children?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId()
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children ?? <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  )
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null
  return (
    <p className="error-box" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </p>
  )
}
