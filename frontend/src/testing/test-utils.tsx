// Render the real app (routes, loaders, providers) in memory at a path.
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { RouterProvider } from 'react-router';

import { AppProvider } from '@/app/provider';
import { createTestRouter } from '@/app/router';
import type { User } from '@/lib/auth';
import { createQueryClient } from '@/lib/react-query';

import { makeUser } from './data';
import { server } from './mocks/server';

export const CSRF = 'csrf-test-token';

/** GET /api/auth/me answers with this user (a logged-in browser). */
export function logIn(user: User = makeUser()): User {
  server.use(http.get('*/api/auth/me', () => HttpResponse.json({ user, csrf_token: CSRF })));
  return user;
}

export async function renderApp(path: string) {
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({ queries: { ...queryClient.getDefaultOptions().queries, retry: false } });
  const router = createTestRouter(queryClient, path);
  const user = userEvent.setup();
  const result = render(
    <AppProvider queryClient={queryClient}>
      <RouterProvider router={router} />
    </AppProvider>,
  );
  // Loaders ran and the lazy route modules are in: the login page or the shell is drawn.
  await waitFor(() => {
    expect(router.state.navigation.state).toBe('idle');
    expect(document.querySelector('main')).not.toBeNull();
  });
  return { ...result, router, queryClient, user };
}

export { screen };
