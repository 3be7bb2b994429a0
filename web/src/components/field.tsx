import { type InputHTMLAttributes, type ReactNode, useId } from 'react'

// A labelled control with its error (from the API's 422 `detail[].loc`) announced and linked: an
// <input> by default, or whatever `children` renders with the given id and ARIA attributes.

interface ControlProps {
  id: string
  'aria-invalid': true | undefined
  'aria-describedby': string | undefined
}

export function Field({
  label,
  error,
  hint,
  children,
  ...input
}: { label: string; error?: string | undefined; hint?: ReactNode; children?: (control: ControlProps) => ReactNode } & Omit<InputHTMLAttributes<HTMLInputElement>, 'children'>) {
  const id = useId()
  const control: ControlProps = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined,
  }
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children ? children(control) : <input {...control} {...input} />}
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
