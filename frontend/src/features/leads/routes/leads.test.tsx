import { waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeLead } from '@/testing/leads-data';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

describe('leads table', () => {
  let queries: string[];

  beforeEach(() => {
    logIn();
    queries = [];
    server.use(
      http.get('*/api/leads', ({ request }) => {
        const url = new URL(request.url);
        queries.push(url.search);
        const items = url.searchParams.get('q') === 'nobody' ? [] : [makeLead({ id: 3, name: 'Fay Client', email: 'fay@example.com' })];
        return HttpResponse.json({ items, page: 1, per_page: 25, total: items.length, pages: 1 });
      }),
    );
  });

  it('searches and filters through the URL and offers the matching CSV export', async () => {
    const { user, router } = await renderApp('/leads');
    expect(await screen.findByRole('link', { name: 'Fay Client' })).toHaveAttribute('href', '/leads/3');
    await user.type(screen.getByRole('searchbox', { name: 'Search' }), 'fay');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    expect(router.state.location.search).toBe('?q=fay');
    // React Router renders a navigation in a transition: wait for the page to show it.
    await waitFor(() => expect(screen.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('href', '/api/leads/export.csv?q=fay'));
    await user.selectOptions(screen.getByLabelText('Status'), 'qualified');
    await waitFor(() => expect(screen.getByLabelText('Status')).toHaveValue('qualified'));
    await user.selectOptions(screen.getByLabelText('Source'), 'whatsapp');
    expect(router.state.location.search).toBe('?q=fay&status=qualified&source=whatsapp');
    await waitFor(() => expect(queries.at(-1)).toBe('?q=fay&status=qualified&source=whatsapp&page=1&per_page=25'));
    expect(screen.getByRole('link', { name: 'Export CSV' })).toHaveAttribute(
      'href',
      '/api/leads/export.csv?q=fay&status=qualified&source=whatsapp',
    );
  });

  it('says when nothing matches and clears the search', async () => {
    const { user, router } = await renderApp('/leads?q=nobody');
    expect(await screen.findByRole('heading', { name: 'No leads match' })).toBeInTheDocument();
    expect(screen.getByRole('searchbox', { name: 'Search' })).toHaveValue('nobody');
    await user.click(screen.getByRole('button', { name: 'Clear the search and filters' }));
    expect(router.state.location.search).toBe('');
    expect(await screen.findByRole('link', { name: 'Fay Client' })).toBeInTheDocument();
  });
});
