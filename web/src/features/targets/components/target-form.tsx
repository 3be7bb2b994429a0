import { type FormEvent, useEffect, useRef, useState } from 'react'
import { ErrorMessage, Field } from '../../../components/field'
import { formErrors } from '../../../lib/form-errors'
import type { TargetInput, TargetOut, TargetPatch } from '../api/targets'

// One form for adding a target and editing one (the address cannot change). The API validates; its
// 422 `detail[].loc` puts each message under the field it names, and a duplicate address (409) goes
// under the address.

interface Values {
  ip: string
  name: string
  tags: string
  sites: string
  frequency: string
  packets: string
  timeout_ms: string
  url: string
  notes: string
  badge_public: boolean
}

const fromTarget = (t?: TargetOut): Values => ({
  ip: t?.ip ?? '',
  name: t?.name ?? '',
  tags: t?.tags.join(' ') ?? '',
  sites: t?.sites?.join(', ') ?? '',
  frequency: String(t?.frequency ?? 60),
  packets: String(t?.packets ?? 1),
  timeout_ms: String(t?.timeout_ms ?? 1000),
  url: t?.url ?? '',
  notes: t?.notes ?? '',
  badge_public: t?.badge_public ?? false,
})

/** Numbers stay as typed when they are not numbers: the API then names the field. */
const num = (s: string): number => (s.trim() === '' ? NaN : Number(s))
export const parseTags = (s: string) => s.split(/[\s,]+/).filter(Boolean)
/** Comma-separated site names; none means every site (null). */
const parseSites = (s: string) => {
  const names = s.split(',').map((x) => x.trim()).filter(Boolean)
  return names.length ? names : null
}

function toBody(v: Values) {
  return {
    name: v.name.trim() || null,
    tags: parseTags(v.tags),
    sites: parseSites(v.sites),
    frequency: num(v.frequency),
    packets: num(v.packets),
    timeout_ms: num(v.timeout_ms),
    url: v.url.trim() || null,
    notes: v.notes.trim() || null,
    badge_public: v.badge_public,
  }
}

export function TargetForm(props: {
  target?: TargetOut
  submitLabel: string
  onSubmit: (body: TargetInput | TargetPatch) => Promise<unknown>
  onCancel?: () => void
}) {
  const editing = props.target !== undefined
  const [v, setV] = useState<Values>(() => fromTarget(props.target))
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const { fields, rest } = formErrors(error, 'ip')

  useEffect(() => {
    if (Object.keys(fields).length) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
    // Only when a new error arrives (fields is derived from it).
  }, [error])

  const set = (k: keyof Values) => (e: { target: { value: string } }) => setV((old) => ({ ...old, [k]: e.target.value }))

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const body = toBody(v)
      await props.onSubmit(editing ? body : { ip: v.ip.trim(), ...body })
      if (!editing) setV((old) => ({ ...fromTarget(), frequency: old.frequency, packets: old.packets, timeout_ms: old.timeout_ms, tags: old.tags }))
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form ref={form} className="target-form" onSubmit={submit} noValidate>
      <div className="grid-2">
        {!editing && <Field label="Address (IPv4, IPv6 or hostname)" name="ip" required value={v.ip} onChange={set('ip')} error={fields.ip} autoComplete="off" spellCheck={false} />}
        <Field label="Name" name="name" value={v.name} onChange={set('name')} error={fields.name} />
        <Field label="Tags" name="tags" value={v.tags} onChange={set('tags')} error={fields.tags} hint="separated by spaces or commas" />
        <Field label="Sites" name="sites" value={v.sites} onChange={set('sites')} error={fields.sites} hint="site names separated by commas; empty: every site" autoComplete="off" spellCheck={false} />
        <Field label="Interval (s)" name="frequency" type="number" min={1} max={3600} value={v.frequency} onChange={set('frequency')} error={fields.frequency} />
        <Field label="Echoes per round" name="packets" type="number" min={1} max={20} value={v.packets} onChange={set('packets')} error={fields.packets} />
        <Field label="Timeout (ms)" name="timeout_ms" type="number" min={100} max={10000} value={v.timeout_ms} onChange={set('timeout_ms')} error={fields.timeout_ms} />
        <Field label="URL" name="url" type="url" value={v.url} onChange={set('url')} error={fields.url} />
      </div>
      <Field label="Notes" error={fields.notes}>
        {(control) => <textarea {...control} name="notes" rows={2} value={v.notes} onChange={set('notes')} />}
      </Field>
      <label className="checkbox">
        <input type="checkbox" name="badge_public" checked={v.badge_public} onChange={(e) => setV((old) => ({ ...old, badge_public: e.target.checked }))} /> Public status badge
      </label>
      <ErrorMessage error={rest} />
      {Object.keys(fields).some((k) => !(k in v)) && <ErrorMessage error={Object.entries(fields).map(([k, m]) => `${k}: ${m}`).join('; ')} />}
      <div className="form-actions">
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : props.submitLabel}
        </button>
      </div>
    </form>
  )
}
