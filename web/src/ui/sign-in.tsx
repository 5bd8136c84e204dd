// A calm, branded sign-in card used by the workspace and the tenant console.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { describeError } from '../lib/api';
import type { PublicBranding } from '../lib/types';
import { BrandMark } from './brand';
import { Button, Notice, TextField } from './components';

export function SignInCard({ branding, heading, subtitle, onSubmit, footer, mode = 'password' }: {
  branding: PublicBranding;
  heading: string;
  subtitle?: ComponentChildren;
  onSubmit: (email: string, secret: string) => Promise<void>;
  footer?: ComponentChildren;
  mode?: 'password' | 'token';
}) {
  const [email, setEmail] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(email.trim(), secret);
    } catch (err) {
      setError(describeError(err));
      setSecret('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin-page">
      <div class="signin-brand-bar" data-testid="brand-bar" />
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div class="signin-head">
          <BrandMark branding={branding} size={40} />
          <h1 id="signin-title">{heading}</h1>
          {subtitle && <p class="muted">{subtitle}</p>}
        </div>
        {mode === 'password' ? (
          <>
            <TextField label="Email" type="email" value={email} onValue={setEmail} autoComplete="username"
                       required name="email" />
            <TextField label="Password" type="password" value={secret} onValue={setSecret}
                       autoComplete="current-password" required name="password" />
          </>
        ) : (
          <TextField label="Operator token" type="password" value={secret} onValue={setSecret}
                     autoComplete="off" spellcheck={false} required name="token"
                     hint="A token that starts with lvr_op_. It is exchanged for a session and not stored." />
        )}
        {error && <Notice tone="danger">{error}</Notice>}
        <Button type="submit" variant="primary" busy={busy} class="btn-block">Sign in</Button>
        {footer}
      </form>
    </main>
  );
}
