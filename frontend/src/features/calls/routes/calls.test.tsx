import { waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeCall, makeCallPage } from '@/testing/calls-data';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

describe('calls list', () => {
  let queries: string[];

  beforeEach(() => {
    logIn();
    queries = [];
    server.use(
      http.get('*/api/calls', ({ request }) => {
        const url = new URL(request.url);
        queries.push(url.search);
        const status = url.searchParams.get('status');
        if (status === 'failed') return HttpResponse.json(makeCallPage([]));
        const page = Number(url.searchParams.get('page') ?? 1);
        const items = [makeCall({ id: page * 10, call_sid: `CA-page-${page}`, status: status ?? 'completed' })];
        return HttpResponse.json(makeCallPage(items, { page, per_page: 25, total: 30 }));
      }),
    );
  });

  it('filters by status and direction through the URL, and pages', async () => {
    const { user, router } = await renderApp('/calls');
    expect(await screen.findByRole('link', { name: 'Dana Lead' })).toBeInTheDocument();
    expect(queries.at(-1)).toBe('?page=1&per_page=25');

    await user.selectOptions(screen.getByLabelText('Status'), 'rejected');
    await screen.findByText('Rejected', { selector: '.badge' });
    expect(router.state.location.search).toBe('?status=rejected');
    expect(queries.at(-1)).toBe('?status=rejected&page=1&per_page=25');

    await user.selectOptions(screen.getByLabelText('Direction'), 'outbound');
    expect(router.state.location.search).toBe('?status=rejected&direction=outbound');
    await waitFor(() => expect(queries.at(-1)).toBe('?status=rejected&direction=outbound&page=1&per_page=25'));

    const pagination = screen.getByRole('navigation', { name: 'Pagination' });
    expect(within(pagination).getByText(/30 calls · page 1 of 2/)).toBeInTheDocument();
    await user.click(within(pagination).getByRole('button', { name: 'Next' }));
    expect(await within(pagination).findByText(/page 2 of 2/)).toBeInTheDocument();
    expect(router.state.location.search).toBe('?status=rejected&direction=outbound&page=2');
    expect(within(pagination).getByRole('button', { name: 'Next' })).toBeDisabled();

    // A new filter starts again at page 1.
    await user.selectOptions(screen.getByLabelText('Direction'), '');
    expect(router.state.location.search).toBe('?status=rejected');
  });

  it('reads the filters from the URL, ignoring nonsense, and shows a lead filter to clear', async () => {
    const { user, router } = await renderApp('/calls?status=bogus&direction=outbound&lead_id=7');
    expect(await screen.findByText('Dana Lead', { selector: '.badge' })).toBeInTheDocument();
    expect(queries.at(-1)).toBe('?direction=outbound&lead_id=7&page=1&per_page=25');
    expect(screen.getByLabelText('Status')).toHaveValue('');
    expect(screen.getByLabelText('Direction')).toHaveValue('outbound');
    await user.click(screen.getByRole('button', { name: 'Clear the lead filter' }));
    expect(router.state.location.search).toBe('?direction=outbound');
  });

  it('says when nothing matches and clears the filters', async () => {
    const { user, router } = await renderApp('/calls?status=failed');
    expect(await screen.findByRole('heading', { name: 'No calls match these filters' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Clear the filters' }));
    expect(router.state.location.search).toBe('');
    expect(await screen.findByRole('link', { name: 'Dana Lead' })).toBeInTheDocument();
  });
});
