import type { QueryClient } from '@tanstack/react-query';
import { redirect, useNavigate, useSearchParams, type LoaderFunctionArgs } from 'react-router';

import { safeNext } from '@/config/paths';
import { userQueryOptions } from '@/lib/auth';

import { LoginForm } from '../components/login-form';

/** Already logged in: straight on to where the user was going. */
export const clientLoader =
  (queryClient: QueryClient) =>
  async ({ request }: LoaderFunctionArgs) => {
    const user = await queryClient.query(userQueryOptions());
    if (user) return redirect(safeNext(new URL(request.url).searchParams.get('next')));
    return null;
  };

export default function LoginRoute() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const expired = params.has('next');
  return (
    <main className="auth-page">
      <title>Log in · ProSaaS</title>
      <div className="card auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            P
          </span>
          ProSaaS
        </div>
        <div className="stack">
          <div>
            <h1>Log in</h1>
            <p className="muted">
              {expired ? 'Log in to continue where you were going.' : 'Welcome back to your receptionist.'}
            </p>
          </div>
          <LoginForm onSuccess={() => void navigate(next, { replace: true })} />
        </div>
      </div>
    </main>
  );
}
