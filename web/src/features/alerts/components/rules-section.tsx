import { useState } from 'react'
import { FormDialog } from '../../../components/confirm-dialog'
import { ErrorMessage } from '../../../components/field'
import { formatInterval } from '../../../lib/format'
import { Link } from '../../../lib/router'
import { useTargets } from '../../fleet/api/fleet'
import { SeverityBadge } from '../../incidents/components/incident-table'
import { conditionLabel, formatValue, thresholdUnit } from '../../incidents/incident-format'
import { type ChannelOut, type RuleOut, useCreateRule, useDeleteRule, useRules, useUpdateRule } from '../api/alerts'
import type { Confirm } from './confirm'
import { RuleForm } from './rule-form'

// The rules: what each judges, over what, for whom, and whom it tells. Admins create, edit, mute and
// delete them (deleting closes the rule's open incidents); viewers read.

function Scope({ rule }: { rule: RuleOut }) {
  const targets = useTargets()
  if (rule.scope === 'all') return <>all targets</>
  if (rule.scope === 'tag') return <span className="tag">{rule.tag}</span>
  const t = targets.data?.find((x) => x.id === rule.target_id)
  return <Link to={`/target/${rule.target_id}`}>{t ? (t.name ?? t.ip) : `target ${rule.target_id}`}</Link>
}

function condition(r: RuleOut): string {
  const what = conditionLabel(r.condition)
  const limit = r.threshold === null ? '' : ` ≥ ${formatValue(r.threshold, thresholdUnit(r.condition))}`
  return r.threshold === null ? what : `${what}${limit} over ${formatInterval(r.window_s)}`
}

export function RulesSection({ isAdmin, channels, confirm }: { isAdmin: boolean; channels: ChannelOut[]; confirm: Confirm }) {
  const rules = useRules()
  const create = useCreateRule()
  const update = useUpdateRule()
  const remove = useDeleteRule()
  const [editing, setEditing] = useState<RuleOut | 'new' | null>(null)
  const channelName = (id: number) => channels.find((c) => c.id === id)?.name ?? `#${id}`

  return (
    <section className="card" aria-labelledby="rules-title">
      <div className="card-head">
        <h2 id="rules-title">Rules</h2>
        {isAdmin && (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            New rule
          </button>
        )}
      </div>
      <ErrorMessage error={rules.error ?? update.error ?? remove.error} />
      {rules.data?.length === 0 && <p className="empty">No rules yet.</p>}
      {rules.data && rules.data.length > 0 && (
        <div className="wide-table">
          <table className="data-table" aria-label="Alert rules">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Severity</th>
                <th scope="col">Condition</th>
                <th scope="col">For / recover</th>
                <th scope="col">Scope</th>
                <th scope="col">Channels</th>
                {isAdmin && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rules.data.map((r) => (
                <tr key={r.id} data-rule-id={r.id} className={r.muted ? 'muted' : undefined}>
                  <td>
                    {r.name} {r.muted && <span className="badge badge-warn">muted</span>}
                  </td>
                  <td>
                    <SeverityBadge severity={r.severity} />
                  </td>
                  <td>{condition(r)}</td>
                  <td>
                    {formatInterval(r.for_s)} / {formatInterval(r.recover_s)}
                  </td>
                  <td>
                    <Scope rule={r} />
                  </td>
                  <td>{r.channel_ids.length ? r.channel_ids.map(channelName).join(', ') : <span className="muted">none</span>}</td>
                  {isAdmin && (
                    <td className="row-actions">
                      <button type="button" onClick={() => setEditing(r)}>
                        Edit
                      </button>
                      <button type="button" onClick={() => update.mutate({ id: r.id, muted: !r.muted })}>
                        {r.muted ? 'Unmute' : 'Mute'}
                      </button>
                      <button
                        type="button"
                        className="danger"
                        onClick={() =>
                          confirm({
                            title: `Delete rule ${r.name}?`,
                            body: 'Its open incidents close, and their channels are told they resolved.',
                            label: 'Delete rule',
                            run: () => remove.mutateAsync(r.id),
                          })
                        }
                      >
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <FormDialog open={editing !== null} title={editing === 'new' ? 'New alert rule' : `Edit rule ${editing?.name ?? ''}`} onClose={() => setEditing(null)}>
        <RuleForm
          key={editing === 'new' ? 'new' : editing?.id}
          {...(editing && editing !== 'new' ? { rule: editing } : {})}
          channels={channels}
          submitLabel={editing === 'new' ? 'Create rule' : 'Save'}
          onCancel={() => setEditing(null)}
          onSubmit={async (body) => {
            if (editing === 'new') await create.mutateAsync(body)
            else if (editing) await update.mutateAsync({ id: editing.id, ...body })
            setEditing(null)
          }}
        />
      </FormDialog>
    </section>
  )
}
