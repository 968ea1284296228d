import { useState } from 'preact/hooks';
import { ProblemSummary, TextField } from '../components/forms.tsx';
import { ApiError, login } from '../lib/api.ts';
import { session } from '../lib/session.ts';

export function LoginScreen() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await login(email.trim(), password);
      session.set((s) => ({ ...s, status: 'loading' }));
    } catch (error) {
      setProblem(
        error instanceof ApiError ? error : new ApiError(0, { code: 'NETWORK', detail: String(error) }),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login" id="main">
      <form class="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">PMS admin</h1>
        <p class="muted">Sign in with your PMS account.</p>
        <ProblemSummary problem={problem} fields={['/email', '/password']} />
        <TextField
          label="Email"
          type="email"
          autoComplete="username"
          required
          maxLength={254}
          value={email}
          onValue={setEmail}
          pointer="/email"
          problem={problem}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={256}
          value={password}
          onValue={setPassword}
          pointer="/password"
          problem={problem}
        />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
