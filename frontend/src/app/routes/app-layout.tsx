// Every page behind the login: the loader makes sure there is a session (or sends the user to
// the login page with where they wanted to go), the component draws the shell around the page.
import type { QueryClient } from '@tanstack/react-query';
import { Suspense } from 'react';
import { ErrorBoundary } from 'react-error-boundary';
import { Outlet, redirect, useLocation, type LoaderFunctionArgs } from 'react-router';

import { AppShell } from '@/components/layouts/app-shell';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { paths } from '@/config/paths';
import { userQueryOptions, useUser } from '@/lib/auth';

export const appLayoutLoader =
  (queryClient: QueryClient) =>
  async ({ request }: LoaderFunctionArgs) => {
    const user = await queryClient.query(userQueryOptions());
    if (!user) {
      const url = new URL(request.url);
      return redirect(paths.login.getHref(`${url.pathname}${url.search}`));
    }
    return null;
  };

export function AppLayout() {
  const { data: user } = useUser();
  const { pathname } = useLocation();
  if (!user) return <LoadingState />;
  return (
    <AppShell user={user}>
      {/* A page that crashes while rendering keeps the shell (navigation, logout) usable; the
          boundary resets when the user goes to another page. */}
      <ErrorBoundary
        resetKeys={[pathname]}
        fallbackRender={({ error, resetErrorBoundary }) => (
          <ErrorState error={error} title="This page ran into a problem" onRetry={resetErrorBoundary} />
        )}
      >
        <Suspense fallback={<LoadingState />}>
          <Outlet />
        </Suspense>
      </ErrorBoundary>
    </AppShell>
  );
}
