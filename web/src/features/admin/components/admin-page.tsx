import { type FormEvent, useState } from 'react'
import { ConfirmDialog } from '../../../components/confirm-dialog'
import { ErrorMessage, Field } from '../../../components/field'
import { formatDateTime } from '../../../lib/format'
import { formErrors } from '../../../lib/form-errors'
import type { Me } from '../../auth/api/auth'
import { StatusPagesSection } from '../../status-page/components/status-pages-section'
import { type ApiToken, type User, useCreateToken, useCreateUser, useRevokeToken, useTokens, useUpdateUser, useUsers } from '../api/admin'

/** The signed-in user, as far as this page cares. */
type Viewer = Pick<Me, 'id' | 'role'>

function Users({ me }: { me: Viewer }) {
  const users = useUsers()
  const create = useCreateUser()
  const update = useUpdateUser()
  const [form, setForm] = useState({ username: '', password: '', role: 'viewer' as User['role'] })
  const { fields, rest } = formErrors(create.error, 'username')

  function submit(e: FormEvent) {
    e.preventDefault()
    create.mutate(form, { onSuccess: () => setForm({ username: '', password: '', role: 'viewer' }) })
  }

  return (
    <section className="card" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <ErrorMessage error={users.error ?? update.error} />
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>
                <select
                  aria-label={`Role of ${u.username}`}
                  value={u.role}
                  disabled={u.id === me.id}
                  onChange={(e) => update.mutate({ id: u.id, role: e.target.value as User['role'] })}
                >
                  <option value="viewer">viewer</option>
                  <option value="admin">admin</option>
                </select>
              </td>
              <td>
                <button type="button" disabled={u.id === me.id} onClick={() => update.mutate({ id: u.id, disabled: !u.disabled })}>
                  {u.disabled ? 'Enable' : 'Disable'}
                </button>{' '}
                {u.disabled && <span className="badge badge-warn">disabled</span>}
              </td>
              <td>{formatDateTime(u.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="inline-form" onSubmit={submit} noValidate>
        <h3>New user</h3>
        <Field label="Username" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} error={fields.username} autoComplete="off" />
        <Field label="Password" type="password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} error={fields.password} autoComplete="new-password" />
        <Field label="Role">
          {(control) => (
            <select {...control} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as User['role'] })}>
              <option value="viewer">viewer</option>
              <option value="admin">admin</option>
            </select>
          )}
        </Field>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create user
        </button>
        <ErrorMessage error={rest} />
      </form>
    </section>
  )
}

function Tokens({ me }: { me: Viewer }) {
  const tokens = useTokens()
  const isAdmin = me.role === 'admin'
  // Admins see every user's tokens: name their owners (the list has user ids).
  const users = useUsers({ enabled: isAdmin })
  const owner = (id: number) => users.data?.find((u) => u.id === id)?.username ?? `user ${id}`
  const create = useCreateToken()
  const revoke = useRevokeToken()
  const [name, setName] = useState('')
  const [days, setDays] = useState('365')
  const [confirm, setConfirm] = useState<ApiToken | null>(null)
  const { fields, rest } = formErrors(create.error)

  function submit(e: FormEvent) {
    e.preventDefault()
    create.mutate({ name, ...(days ? { expires_in_days: Number(days) } : {}) }, { onSuccess: () => setName('') })
  }

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted">For scripts and Prometheus: send as <code>Authorization: Bearer pst_…</code>. {isAdmin ? 'Admins see every user’s tokens.' : 'Your tokens carry viewer rights; an admin creates and revokes them.'}</p>
      {create.data && (
        <div className="success" role="status">
          <p>
            Token <b>{create.data.name}</b> created. Copy it now: it is not shown again.
          </p>
          <p>
            <code className="token" data-testid="new-token">
              {create.data.token}
            </code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(create.data!.token)}>
              Copy
            </button>
          </p>
        </div>
      )}
      <ErrorMessage error={tokens.error ?? revoke.error} />
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            {isAdmin && <th scope="col">User</th>}
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            {isAdmin && (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {tokens.data?.map((t) => (
            <tr key={t.id} className={t.revoked_at ? 'muted' : undefined}>
              <td>{t.name}</td>
              <td className="mono">{t.prefix}…</td>
              {isAdmin && <td>{owner(t.user_id)}</td>}
              <td>{formatDateTime(t.created_at)}</td>
              <td>{formatDateTime(t.last_used_at)}</td>
              <td>{t.expires_at ? formatDateTime(t.expires_at) : 'never'}</td>
              {isAdmin && (
                <td>{t.revoked_at ? `revoked ${formatDateTime(t.revoked_at)}` : <button type="button" className="danger" onClick={() => setConfirm(t)}>Revoke</button>}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {isAdmin && (
        <form className="inline-form" onSubmit={submit} noValidate>
          <h3>New token</h3>
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fields.name} />
          <Field label="Expires in (days, empty: never)" type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} error={fields.expires_in_days} />
          <button type="submit" className="primary" disabled={create.isPending}>
            Create token
          </button>
          <ErrorMessage error={rest} />
        </form>
      )}
      <ConfirmDialog
        open={confirm !== null}
        title={`Revoke token ${confirm?.name ?? ''}?`}
        confirmLabel="Revoke"
        danger
        busy={revoke.isPending}
        onCancel={() => setConfirm(null)}
        onConfirm={() => confirm && revoke.mutate(confirm.id, { onSettled: () => setConfirm(null) })}
      >
        <p>Scripts using it stop working at once.</p>
      </ConfirmDialog>
    </section>
  )
}

export function AdminPage({ me }: { me: Viewer }) {
  return (
    <section className="page" aria-labelledby="admin-title">
      <h1 id="admin-title">{me.role === 'admin' ? 'Users and API tokens' : 'API tokens'}</h1>
      {me.role === 'admin' && <Users me={me} />}
      <Tokens me={me} />
      <StatusPagesSection isAdmin={me.role === 'admin'} />
    </section>
  )
}
