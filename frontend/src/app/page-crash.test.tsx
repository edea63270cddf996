// A page that throws while rendering leaves the shell usable.
import { http, HttpResponse } from 'msw';

import { makeCall } from '@/testing/calls-data';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

describe('a crashing page', () => {
  it('shows an error inside the shell and recovers on navigation', async () => {
    logIn();
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // A transcript that is not a list: the page cannot render it.
    server.use(http.get('*/api/calls/3', () => HttpResponse.json({ ...makeCall({ id: 3 }), transcript: 'oops', events: {} })));
    const { user } = await renderApp('/calls/3');
    expect(await screen.findByRole('heading', { name: 'This page ran into a problem' })).toBeInTheDocument();
    expect(screen.getByRole('navigation', { name: 'Main' })).toBeInTheDocument();
    server.use(http.get('*/api/leads', () => HttpResponse.json({ items: [], page: 1, per_page: 25, total: 0, pages: 0 })));
    await user.click(screen.getByRole('link', { name: /^☰?\s*Leads$/ }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Leads' })).toBeInTheDocument();
  });
});
