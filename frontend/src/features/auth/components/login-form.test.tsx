import { http, HttpResponse } from 'msw';

import { makeUser } from '@/testing/data';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { CSRF, logIn, renderApp, screen } from '@/testing/test-utils';

describe('login', () => {
  it('says what is wrong with the fields before sending anything', async () => {
    let sent = 0;
    server.use(http.post('*/api/auth/login', () => (sent++, HttpResponse.json({}))));
    const { user } = await renderApp('/login');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('Enter a valid email address')).toBeInTheDocument();
    expect(screen.getByText('Enter your password')).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAttribute('aria-invalid', 'true');
    await user.type(screen.getByLabelText('Email'), 'not-an-email');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('Enter a valid email address')).toBeInTheDocument();
    expect(sent).toBe(0);
  });

  it('shows the server refusing the password', async () => {
    server.use(http.post('*/api/auth/login', () => apiError(401, 'bad_credentials', 'wrong email or password')));
    const { user, router } = await renderApp('/login');
    await user.type(screen.getByLabelText('Email'), 'owner@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong email or password.');
    expect(router.state.location.pathname).toBe('/login');
  });

  it('logs in and goes where the user was going', async () => {
    const owner = makeUser();
    let body: unknown;
    server.use(
      http.post('*/api/auth/login', async ({ request }) => {
        body = await request.json();
        logIn(owner);
        return HttpResponse.json({ user: owner, csrf_token: CSRF });
      }),
    );
    const { user, router } = await renderApp('/login?next=%2Fleads%2Fboard');
    await user.type(screen.getByLabelText('Email'), ' Owner@Example.com ');
    await user.type(screen.getByLabelText('Password'), 'secret');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Lead board' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/leads/board');
    expect(body).toEqual({ email: 'owner@example.com', password: 'secret' });
  });

  it('never follows a next that leaves the site', async () => {
    const owner = makeUser();
    server.use(
      http.post('*/api/auth/login', () => {
        logIn(owner);
        return HttpResponse.json({ user: owner, csrf_token: CSRF });
      }),
    );
    const { user, router } = await renderApp('/login?next=%2F%2Fevil.example%2F');
    await user.type(screen.getByLabelText('Email'), 'owner@example.com');
    await user.type(screen.getByLabelText('Password'), 'secret');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');
  });
});
