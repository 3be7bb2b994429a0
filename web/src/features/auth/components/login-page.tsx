import { type FormEvent, useState } from 'react'
import { ErrorMessage, Field } from '../../../components/field'
import { startSession, takeLogoutReason } from '../../../lib/session'
import { login } from '../api/auth'

export function LoginPage() {
  const [reason] = useState(takeLogoutReason)
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const t = await login(username, password)
      startSession(t.access_token, t.expires_in)
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  return (
    <main id="main" className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">pingscope</h1>
        {reason && (
          <p className="notice" role="status">
            {reason}
          </p>
        )}
        <Field label="Username" name="username" autoComplete="username" required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
