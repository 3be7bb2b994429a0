import { type FormEvent, useState } from 'react'
import { ErrorMessage, Field } from '../../../components/field'
import { type ChannelCreated, type ChannelKind, type ChannelOut, useCreateChannel, useDeleteChannel, useUpdateChannel } from '../api/alerts'
import { fieldErrors, num, unshown } from '../form-fields'
import type { Confirm } from './confirm'

// Notification channels: a signed webhook, a Slack-compatible webhook, email. Secrets come back
// masked (as the API answers them); a webhook secret pingscope generates is shown once, here, after
// creation. Admins create, enable, disable and delete channels.

const KINDS: ChannelKind[] = ['webhook', 'slack', 'email']

interface Values {
  name: string
  kind: ChannelKind
  url: string
  secret: string
  host: string
  port: string
  tls: string
  username: string
  password: string
  from: string
  to: string
}
const EMPTY: Values = { name: '', kind: 'webhook', url: '', secret: '', host: '', port: '587', tls: 'starttls', username: '', password: '', from: '', to: '' }

function config(v: Values): Record<string, unknown> {
  if (v.kind === 'webhook') return { url: v.url.trim(), ...(v.secret ? { secret: v.secret } : {}) }
  if (v.kind === 'slack') return { url: v.url.trim() }
  return {
    host: v.host.trim(),
    port: num(v.port),
    tls: v.tls,
    username: v.username.trim() || null,
    password: v.password || null,
    from: v.from.trim(),
    to: v.to.split(/[\s,;]+/).filter(Boolean),
  }
}

const SHOWN = ['name', 'kind', 'config.url', 'config.secret', 'config.host', 'config.port', 'config.tls', 'config.username', 'config.password', 'config.from', 'config.to']

function ChannelForm({ onCreated }: { onCreated: (c: ChannelCreated) => void }) {
  const create = useCreateChannel()
  const [v, setV] = useState<Values>(EMPTY)
  const { fields, rest } = fieldErrors(create.error, 'name')
  const set = (k: keyof Values) => (e: { target: { value: string } }) => setV((old) => ({ ...old, [k]: e.target.value }))
  const f = (k: string) => fields[`config.${k}`]

  function submit(e: FormEvent) {
    e.preventDefault()
    create.mutate(
      { name: v.name.trim(), kind: v.kind, config: config(v), enabled: true },
      {
        onSuccess: (c) => {
          setV(EMPTY)
          onCreated(c)
        },
      },
    )
  }

  return (
    <form className="inline-form" onSubmit={submit} noValidate aria-label="New channel">
      <h3>New channel</h3>
      <Field label="Name" name="name" value={v.name} onChange={set('name')} error={fields.name} autoComplete="off" />
      <Field label="Kind" error={fields.kind}>
        {(c) => (
          <select {...c} value={v.kind} onChange={set('kind')}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        )}
      </Field>
      {v.kind !== 'email' && <Field label="URL" name="url" type="url" value={v.url} onChange={set('url')} error={f('url')} autoComplete="off" />}
      {v.kind === 'webhook' && <Field label="Secret" name="secret" type="password" value={v.secret} onChange={set('secret')} error={f('secret')} hint="empty: generated, shown once" autoComplete="new-password" />}
      {v.kind === 'email' && (
        <>
          <Field label="SMTP host" name="host" value={v.host} onChange={set('host')} error={f('host')} />
          <Field label="Port" name="port" type="number" value={v.port} onChange={set('port')} error={f('port')} />
          <Field label="TLS" error={f('tls')}>
            {(c) => (
              <select {...c} value={v.tls} onChange={set('tls')}>
                <option value="starttls">STARTTLS (required)</option>
                <option value="implicit">implicit (port 465)</option>
                <option value="none">none</option>
              </select>
            )}
          </Field>
          <Field label="Username" name="username" value={v.username} onChange={set('username')} error={f('username')} autoComplete="off" />
          <Field label="Password" name="password" type="password" value={v.password} onChange={set('password')} error={f('password')} autoComplete="new-password" />
          <Field label="From" name="from" value={v.from} onChange={set('from')} error={f('from')} />
          <Field label="To" name="to" value={v.to} onChange={set('to')} error={f('to')} hint="addresses, separated by commas" />
        </>
      )}
      <button type="submit" className="primary" disabled={create.isPending}>
        Create channel
      </button>
      <ErrorMessage error={rest} />
      <ErrorMessage error={unshown(fields, SHOWN)} />
    </form>
  )
}

/** Where a channel sends, as the API shows it (secrets masked). */
function destination(c: ChannelOut): string {
  const cfg = c.config as Record<string, unknown>
  if (c.kind === 'email') return `${Array.isArray(cfg.to) ? cfg.to.join(', ') : ''} via ${String(cfg.host ?? '')}`
  return `${String(cfg.url ?? '')}${cfg.secret ? `, secret ${String(cfg.secret)}` : ''}`
}

export function ChannelsSection({ isAdmin, channels, error, confirm }: { isAdmin: boolean; channels: ChannelOut[] | undefined; error: unknown; confirm: Confirm }) {
  const update = useUpdateChannel()
  const remove = useDeleteChannel()
  const [created, setCreated] = useState<ChannelCreated | null>(null)
  return (
    <section className="card" aria-labelledby="channels-title">
      <h2 id="channels-title">Channels</h2>
      {created?.secret && (
        <div className="success" role="status">
          <p>
            Channel <b>{created.name}</b> created. Its webhook secret (HMAC-SHA256 key) is shown only now: copy it to the receiver.
          </p>
          <p>
            <code className="token" data-testid="new-secret">
              {created.secret}
            </code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created.secret!)}>
              Copy
            </button>
          </p>
        </div>
      )}
      <ErrorMessage error={error ?? update.error ?? remove.error} />
      {channels?.length === 0 && <p className="empty">No channels yet.</p>}
      {channels && channels.length > 0 && (
        <table className="data-table" aria-label="Channels">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Sends to</th>
              <th scope="col">Queue</th>
              <th scope="col">Last error</th>
              {isAdmin && (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {channels.map((c) => (
              <tr key={c.id} data-channel-id={c.id} className={c.enabled ? undefined : 'muted'}>
                <td>
                  {c.name} {!c.enabled && <span className="badge badge-warn">disabled</span>}
                </td>
                <td>{c.kind}</td>
                <td className="mono channel-dest">{destination(c)}</td>
                <td className="col-num">{c.pending}</td>
                <td className={c.last_error ? 'error-text' : 'muted'}>{c.last_error ?? '–'}</td>
                {isAdmin && (
                  <td className="row-actions">
                    <button type="button" onClick={() => update.mutate({ id: c.id, enabled: !c.enabled })}>
                      {c.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => confirm({ title: `Delete channel ${c.name}?`, body: 'Its queued notifications are dropped and every rule stops using it.', label: 'Delete channel', run: () => remove.mutateAsync(c.id) })}
                    >
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isAdmin && <ChannelForm onCreated={setCreated} />}
    </section>
  )
}
