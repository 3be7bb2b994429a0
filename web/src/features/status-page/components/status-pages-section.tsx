import { type FormEvent, useState } from 'react'
import { ConfirmDialog } from '../../../components/confirm-dialog'
import { ErrorMessage, Field } from '../../../components/field'
import { formatDateTime } from '../../../lib/format'
import { formErrors } from '../../../lib/form-errors'
import { Link } from '../../../lib/router'
import { type StatusPageOut, useDeleteStatusPage, usePutStatusPage, useStatusPages } from '../api/status-page'

// Public status pages (one per tag, opt-in like the badges): everyone signed in sees which tags are
// published; admins publish a tag (or change its title and description: the same tag again) and
// unpublish it. The page itself is /status/{tag}, readable without signing in.

const EMPTY = { tag: '', title: '', description: '' }

export function StatusPagesSection({ isAdmin }: { isAdmin: boolean }) {
  const pages = useStatusPages()
  const put = usePutStatusPage()
  const remove = useDeleteStatusPage()
  const [form, setForm] = useState(EMPTY)
  const [tagMissing, setTagMissing] = useState(false)
  const [confirm, setConfirm] = useState<StatusPageOut | null>(null)
  const { fields, rest } = formErrors(put.error)

  function submit(e: FormEvent) {
    e.preventDefault()
    // An empty tag has no URL to PUT to: say so here, as the API says it of other bad tags.
    setTagMissing(!form.tag.trim())
    if (!form.tag.trim()) return
    put.mutate({ tag: form.tag.trim(), title: form.title, description: form.description || null }, { onSuccess: () => setForm(EMPTY) })
  }

  return (
    <section className="card" aria-labelledby="status-pages-title">
      <h2 id="status-pages-title">Status pages</h2>
      <p className="muted">Public pages, one per tag: the state, 90 days of uptime and the incidents of its targets, readable without signing in. A tag has none until an admin publishes it.</p>
      <ErrorMessage error={pages.error ?? remove.error} />
      {pages.data?.length === 0 && <p className="muted">No tag is published.</p>}
      {pages.data && pages.data.length > 0 && (
        <table className="data-table" aria-label="Status pages">
          <thead>
            <tr>
              <th scope="col">Tag</th>
              <th scope="col">Title</th>
              <th scope="col">Targets</th>
              <th scope="col">Public page</th>
              <th scope="col">Updated</th>
              {isAdmin && (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {pages.data.map((p) => (
              <tr key={p.tag}>
                <td className="mono">{p.tag}</td>
                <td>{p.title}</td>
                <td>{p.targets}</td>
                <td>
                  <Link to={p.url}>{p.url}</Link>
                </td>
                <td>{formatDateTime(p.updated_at)}</td>
                {isAdmin && (
                  <td>
                    <button type="button" onClick={() => setForm({ tag: p.tag, title: p.title, description: p.description ?? '' })}>
                      Edit
                    </button>{' '}
                    <button type="button" className="danger" onClick={() => setConfirm(p)}>
                      Unpublish
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isAdmin && (
        <form className="inline-form" onSubmit={submit} noValidate aria-label="Publish a status page">
          <h3>Publish a tag</h3>
          <Field label="Tag" value={form.tag} onChange={(e) => setForm({ ...form, tag: e.target.value })} error={tagMissing ? 'is required' : fields.tag} autoComplete="off" />
          <Field label="Title" value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} error={fields.title} autoComplete="off" />
          <Field label="Description (optional)" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} error={fields.description} autoComplete="off" />
          <button type="submit" className="primary" disabled={put.isPending}>
            Publish
          </button>
          <ErrorMessage error={rest} />
          {put.data && !put.error && (
            <p className="success" role="status">
              Published <Link to={put.data.url}>{put.data.url}</Link>
            </p>
          )}
        </form>
      )}
      <ConfirmDialog
        open={confirm !== null}
        title={`Unpublish the status page of ${confirm?.tag ?? ''}?`}
        confirmLabel="Unpublish"
        danger
        busy={remove.isPending}
        onCancel={() => setConfirm(null)}
        onConfirm={() => confirm && remove.mutate(confirm.tag, { onSettled: () => setConfirm(null) })}
      >
        <p>Its public address answers “not found” at once; the targets and their history stay.</p>
      </ConfirmDialog>
    </section>
  )
}
