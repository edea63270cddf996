import { http, HttpResponse } from 'msw';

import { api, ApiError, CSRF_HEADER, setCsrfToken, setUnauthorizedHandler } from '@/lib/api-client';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';

describe('api-client', () => {
  let redirectedTo: string[];
  let restore: ReturnType<typeof setUnauthorizedHandler>;

  beforeEach(() => {
    redirectedTo = [];
    restore = setUnauthorizedHandler((next) => redirectedTo.push(next));
    window.history.replaceState(null, '', '/calls?status=completed');
  });
  afterEach(() => {
    setUnauthorizedHandler(restore);
  });

  it('sends the session cookie and query parameters, leaving out empty ones', async () => {
    let seen: Request | undefined;
    server.use(
      http.get('*/api/calls', ({ request }) => {
        seen = request;
        return HttpResponse.json({ items: [] });
      }),
    );
    const data = await api.get<{ items: unknown[] }>('/api/calls', { params: { status: 'completed', lead_id: '', page: 2, q: null } });
    expect(data).toEqual({ items: [] });
    expect(seen?.credentials).toBe('include');
    expect(new URL(seen!.url).search).toBe('?status=completed&page=2');
  });

  it('sends the CSRF token on mutations and not on reads', async () => {
    const headers: Record<string, string | null> = {};
    server.use(
      http.get('*/api/leads', ({ request }) => {
        headers.get = request.headers.get(CSRF_HEADER);
        return HttpResponse.json({});
      }),
      http.patch('*/api/leads/7', async ({ request }) => {
        headers.patch = request.headers.get(CSRF_HEADER);
        expect(request.headers.get('Content-Type')).toBe('application/json');
        expect(await request.json()).toEqual({ status: 'won' });
        return HttpResponse.json({ id: 7 });
      }),
    );
    setCsrfToken('tok-1');
    await api.get('/api/leads');
    await api.patch('/api/leads/7', { status: 'won' });
    expect(headers).toEqual({ get: null, patch: 'tok-1' });
  });

  it('fetches a fresh CSRF token once when the server refuses a stale one, then retries', async () => {
    const sent: (string | null)[] = [];
    server.use(
      http.get('*/api/auth/me', () => HttpResponse.json({ user: { id: 1 }, csrf_token: 'fresh' })),
      http.post('*/api/whatsapp/connect', ({ request }) => {
        const token = request.headers.get(CSRF_HEADER);
        sent.push(token);
        return token === 'fresh'
          ? HttpResponse.json({ state: 'connecting' })
          : apiError(403, 'csrf_failed', 'missing or wrong X-CSRF-Token header');
      }),
    );
    setCsrfToken('stale');
    await expect(api.post('/api/whatsapp/connect')).resolves.toEqual({ state: 'connecting' });
    expect(sent).toEqual(['stale', 'fresh']);
  });

  it('parses the JSON error body into a typed ApiError', async () => {
    const details = [{ field: 'status', problem: 'not one of new, contacted', type: 'enum' }];
    server.use(
      http.patch('*/api/leads/1', () => apiError(422, 'invalid_body', 'status: not one of new, contacted', details)),
    );
    const error = await api.patch('/api/leads/1', { status: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: 'invalid_body', message: 'status: not one of new, contacted' });
    expect((error as ApiError).fieldProblems).toEqual(details);
    expect(redirectedTo).toEqual([]);
  });

  it('reads Retry-After and survives a body that is not JSON', async () => {
    server.use(
      http.get('*/api/dashboard', () => new HttpResponse('<html>Bad gateway</html>', { status: 502, headers: { 'Retry-After': '7' } })),
    );
    const error = (await api.get('/api/dashboard').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('http_502');
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.message).toMatch(/server is having trouble/);
  });

  it('turns a network failure into ApiError network_error', async () => {
    server.use(http.get('*/api/calls', () => HttpResponse.error()));
    await expect(api.get('/api/calls')).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('sends the user to the login page with the current path on 401', async () => {
    server.use(http.get('*/api/calls', () => apiError(401, 'not_authenticated', 'log in first')));
    await expect(api.get('/api/calls')).rejects.toMatchObject({ status: 401, code: 'not_authenticated' });
    expect(redirectedTo).toEqual(['/calls?status=completed']);
  });

  it('does not redirect for the requests that ask whether there is a session', async () => {
    server.use(http.post('*/api/auth/login', () => apiError(401, 'bad_credentials', 'wrong email or password')));
    await expect(
      api.post('/api/auth/login', { email: 'a@b.c', password: 'x' }, { redirectOnUnauthorized: false }),
    ).rejects.toMatchObject({ code: 'bad_credentials' });
    expect(redirectedTo).toEqual([]);
  });

  it('resolves a 204 with undefined', async () => {
    server.use(http.delete('*/api/ops/dead-letters/abc', () => new HttpResponse(null, { status: 204 })));
    await expect(api.delete('/api/ops/dead-letters/abc')).resolves.toBeUndefined();
  });
});
