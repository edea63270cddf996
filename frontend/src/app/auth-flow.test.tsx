// The 401 → login → back flow through the real router.
import { http, HttpResponse } from 'msw';

import { makeUser } from '@/testing/data';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { CSRF, logIn, renderApp, screen } from '@/testing/test-utils';

describe('session', () => {
  it('sends a logged-out visitor to the login page and back after logging in', async () => {
    const owner = makeUser();
    server.use(
      http.post('*/api/auth/login', () => {
        logIn(owner);
        return HttpResponse.json({ user: owner, csrf_token: CSRF });
      }),
    );
    const { user, router } = await renderApp('/broadcasts?page=2');
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('?next=%2Fbroadcasts%3Fpage%3D2');
    expect(screen.getByText(/continue where you were going/)).toBeInTheDocument();
    await user.type(screen.getByLabelText('Email'), 'owner@example.com');
    await user.type(screen.getByLabelText('Password'), 'secret');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Broadcasts' })).toBeInTheDocument();
    expect(`${router.state.location.pathname}${router.state.location.search}`).toBe('/broadcasts?page=2');
  });

  it('goes to the login page when a request of a page gets 401, then comes back', async () => {
    const owner = logIn();
    const { user, router } = await renderApp('/settings/whatsapp');
    expect(await screen.findByRole('heading', { level: 2, name: 'WhatsApp' })).toBeInTheDocument();
    let csrf: string | null = null;
    server.use(
      http.post('*/api/whatsapp/connect', ({ request }) => {
        csrf = request.headers.get('X-CSRF-Token');
        return apiError(401, 'not_authenticated', 'log in first');
      }),
      http.get('*/api/auth/me', () => apiError(401, 'not_authenticated', 'log in first')),
      http.post('*/api/auth/login', () => {
        logIn(owner);
        return HttpResponse.json({ user: owner, csrf_token: CSRF });
      }),
    );
    await user.click(screen.getByRole('button', { name: 'Re-connect' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(csrf).toBe(CSRF);
    expect(router.state.location.search).toBe('?next=%2Fsettings%2Fwhatsapp');
    await user.type(screen.getByLabelText('Email'), 'owner@example.com');
    await user.type(screen.getByLabelText('Password'), 'secret');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('button', { name: 'Re-connect' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/settings/whatsapp');
  });

  it('shows every page in the navigation, operations only to system admins', async () => {
    logIn(makeUser({ role: 'owner' }));
    await renderApp('/');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    for (const name of ['Dashboard', 'Calls', 'Leads', 'Lead board', 'WhatsApp', 'Broadcasts', 'Settings']) {
      expect(nav).toContainElement(screen.getByRole('link', { name: new RegExp(name) }));
    }
    expect(screen.queryByRole('link', { name: /Operations/ })).not.toBeInTheDocument();
  });

  it('logs out', async () => {
    logIn();
    let csrf: string | null = null;
    server.use(
      http.post('*/api/auth/logout', ({ request }) => {
        csrf = request.headers.get('X-CSRF-Token');
        server.use(http.get('*/api/auth/me', () => apiError(401, 'not_authenticated', 'log in first')));
        return HttpResponse.json({ logged_out: true });
      }),
    );
    const { user, router } = await renderApp('/calls');
    await user.click(screen.getByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(csrf).toBe(CSRF);
  });
});
