import { type FormEvent, useEffect, useRef, useState } from 'react'
import { ErrorMessage, Field } from '../../../components/field'
import { useTargets } from '../../fleet/api/fleet'
import { SEVERITY_OPTIONS, conditionLabel, thresholdUnit } from '../../incidents/incident-format'
import { type ChannelOut, type RuleInput, type RuleOut, useConditions } from '../api/alerts'
import { fieldErrors, num, unshown } from '../form-fields'

// One form to create and to edit a rule. The API checks everything, across fields too (a tag rule
// needs a tag, a loss threshold is a percentage, an outage rule has none): its 422s go under the
// field they name, a duplicate name (409) under the name.

interface Values {
  name: string
  scope: RuleOut['scope']
  target_id: string
  tag: string
  condition: string
  threshold: string
  window_s: string
  for_s: string
  recover_s: string
  severity: RuleOut['severity']
  muted: boolean
  channel_ids: number[]
}

const fromRule = (r?: RuleOut): Values => ({
  name: r?.name ?? '',
  scope: r?.scope ?? 'all',
  target_id: r?.target_id ? String(r.target_id) : '',
  tag: r?.tag ?? '',
  condition: r?.condition ?? 'outage',
  threshold: r?.threshold === null || r?.threshold === undefined ? '' : String(r.threshold),
  window_s: String(r?.window_s ?? 300),
  for_s: String(r?.for_s ?? 60),
  recover_s: String(r?.recover_s ?? 120),
  severity: r?.severity ?? 'warning',
  muted: r?.muted ?? false,
  channel_ids: r?.channel_ids ?? [],
})

function toBody(v: Values): RuleInput {
  return {
    name: v.name.trim(),
    scope: v.scope,
    target_id: v.scope === 'target' ? num(v.target_id) : null,
    tag: v.scope === 'tag' ? v.tag.trim() : null,
    condition: v.condition as RuleInput['condition'],
    threshold: v.threshold.trim() === '' ? null : num(v.threshold),
    window_s: num(v.window_s),
    for_s: num(v.for_s),
    recover_s: num(v.recover_s),
    severity: v.severity,
    muted: v.muted,
    channel_ids: v.channel_ids,
  }
}

/** The fields an edit changed: a PATCH of those alone cannot undo what someone else changed meanwhile (a mute). */
function changes(before: RuleInput, after: RuleInput): RuleInput {
  return Object.fromEntries(Object.entries(after).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k as keyof RuleInput])))
}

const SHOWN = ['name', 'scope', 'target_id', 'tag', 'condition', 'threshold', 'window_s', 'for_s', 'recover_s', 'severity', 'muted', 'channel_ids']

export function RuleForm(props: { rule?: RuleOut; channels: ChannelOut[]; submitLabel: string; onSubmit: (body: RuleInput) => Promise<unknown>; onCancel: () => void }) {
  const [v, setV] = useState<Values>(() => fromRule(props.rule))
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const conditions = useConditions()
  const targets = useTargets()
  const form = useRef<HTMLFormElement>(null)
  const { fields, rest } = fieldErrors(error, 'name')
  const set = (k: keyof Values) => (e: { target: { value: string } }) => setV((old) => ({ ...old, [k]: e.target.value }))
  const unit = thresholdUnit(v.condition)
  const conditionOptions = conditions.data ?? [v.condition]

  useEffect(() => {
    if (Object.keys(fields).length) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
    // Only when a new error arrives (fields is derived from it).
  }, [error])

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await props.onSubmit(props.rule ? changes(toBody(fromRule(props.rule)), toBody(v)) : toBody(v))
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  const toggleChannel = (id: number, on: boolean) =>
    setV((old) => ({ ...old, channel_ids: on ? [...old.channel_ids, id] : old.channel_ids.filter((c) => c !== id) }))

  return (
    <form ref={form} className="rule-form" onSubmit={submit} noValidate>
      <div className="grid-2">
        <Field label="Name" name="name" value={v.name} onChange={set('name')} error={fields.name} autoComplete="off" />
        <Field label="Severity" error={fields.severity}>
          {(c) => (
            <select {...c} value={v.severity} onChange={set('severity')}>
              {SEVERITY_OPTIONS.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Condition" error={fields.condition}>
          {(c) => (
            <select {...c} value={v.condition} onChange={set('condition')}>
              {conditionOptions.map((x) => (
                <option key={x} value={x}>
                  {conditionLabel(x)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label={`Threshold${unit ? ` (${unit})` : ''}`}
          name="threshold"
          type="number"
          step="any"
          value={v.threshold}
          onChange={set('threshold')}
          error={fields.threshold}
          hint="met when the value is at least this; none for an outage"
        />
        <Field label="Window (s)" name="window_s" type="number" value={v.window_s} onChange={set('window_s')} error={fields.window_s} hint="loss and latency: judged over this window" />
        <Field label="For (s)" name="for_s" type="number" value={v.for_s} onChange={set('for_s')} error={fields.for_s} hint="must hold this long to fire" />
        <Field label="Recover (s)" name="recover_s" type="number" value={v.recover_s} onChange={set('recover_s')} error={fields.recover_s} hint="must be clear this long to resolve" />
        <Field label="Scope" error={fields.scope}>
          {(c) => (
            <select {...c} value={v.scope} onChange={set('scope')}>
              <option value="all">all targets</option>
              <option value="tag">targets with a tag</option>
              <option value="target">one target</option>
            </select>
          )}
        </Field>
        {v.scope === 'target' && (
          <Field label="Target" error={fields.target_id}>
            {(c) => (
              <select {...c} value={v.target_id} onChange={set('target_id')}>
                <option value="">choose a target</option>
                {targets.data?.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name ? `${t.name} (${t.ip})` : t.ip}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        {v.scope === 'tag' && <Field label="Tag" name="tag" value={v.tag} onChange={set('tag')} error={fields.tag} autoComplete="off" />}
      </div>
      <fieldset className="channel-picks" aria-invalid={fields.channel_ids ? true : undefined}>
        <legend>Channels</legend>
        {props.channels.length === 0 && <span className="muted">No channels yet: incidents are recorded, nobody is notified.</span>}
        {props.channels.map((c) => (
          <label key={c.id} className="checkbox">
            <input type="checkbox" checked={v.channel_ids.includes(c.id)} onChange={(e) => toggleChannel(c.id, e.target.checked)} /> {c.name}
          </label>
        ))}
        {fields.channel_ids && <small className="field-error">{fields.channel_ids}</small>}
      </fieldset>
      <label className="checkbox">
        <input type="checkbox" checked={v.muted} onChange={(e) => setV((old) => ({ ...old, muted: e.target.checked }))} /> Muted (incidents recorded, nothing notified)
      </label>
      <ErrorMessage error={rest ?? conditions.error} />
      <ErrorMessage error={unshown(fields, SHOWN)} />
      <div className="form-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : props.submitLabel}
        </button>
      </div>
    </form>
  )
}
