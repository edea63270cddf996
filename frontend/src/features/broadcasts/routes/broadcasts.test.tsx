import { waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

import type { Broadcast, BroadcastStatus } from '../api/types';

function makeBroadcast(overrides: Partial<Broadcast> = {}): Broadcast {
  return {
    id: 5,
    business_id: 1,
    name: 'December offer',
    text: 'Hello! 20% off all December.',
    attachment_id: null,
    status: 'accepted',
    progress: { total: 3, sent: 0, failed: 0, skipped: 0, pending: 3 },
    created_at: '2026-12-07T09:00:00+00:00',
    updated_at: '2026-12-07T09:00:00+00:00',
    started_at: null,
    finished_at: null,
    ...overrides,
  };
}

const page = <T,>(items: T[], total = items.length) => ({ items, page: 1, per_page: 20, total, pages: 1 });

describe('broadcasts', () => {
  beforeEach(() => logIn());

  it('lists broadcasts with progress, and says when there are none', async () => {
    server.use(http.get('*/api/broadcasts', () => HttpResponse.json(page([makeBroadcast({ status: 'running', progress: { total: 4, sent: 2, failed: 1, skipped: 0, pending: 1 } })]))));
    await renderApp('/broadcasts');
    const row = (await screen.findByRole('link', { name: 'December offer' })).closest('tr')!;
    expect(row).toHaveTextContent('Sending');
    expect(row).toHaveTextContent('2 / 4 sent, 1 failed');

    server.use(http.get('*/api/broadcasts', () => HttpResponse.json(page([]))));
    await renderApp('/broadcasts');
    expect(await screen.findByText('No broadcasts yet')).toBeInTheDocument();
  });

  it('creates from a lead filter, showing how many leads match, then starts it', async () => {
    const counts: Record<string, string>[] = [];
    const created: { body: unknown; key: string | null }[] = [];
    let started = 0;
    server.use(
      http.get('*/api/broadcasts', () => HttpResponse.json(page([]))),
      http.get('*/api/leads', ({ request }) => {
        const query = Object.fromEntries(new URL(request.url).searchParams);
        counts.push(query);
        return HttpResponse.json(page([], query.status === 'won' ? 3 : 12));
      }),
      http.post('*/api/broadcasts', async ({ request }) => {
        created.push({ body: await request.json(), key: request.headers.get('Idempotency-Key') });
        return HttpResponse.json(makeBroadcast(), { status: 201 });
      }),
      http.post('*/api/broadcasts/5/start', () => {
        started += 1;
        return HttpResponse.json({ ...makeBroadcast({ status: 'running' }), job_queued: true });
      }),
      http.get('*/api/broadcasts/5', () => HttpResponse.json(makeBroadcast({ status: started ? 'running' : 'accepted' }))),
    );
    const { user, router } = await renderApp('/broadcasts');
    await user.click(await screen.findByRole('button', { name: 'New broadcast' }));
    expect(await screen.findByText('12 leads match')).toBeInTheDocument();

    // Nothing to send yet: the message is required.
    await user.click(screen.getByRole('button', { name: 'Send to 12 leads' }));
    expect(await screen.findByText('Write the message')).toBeInTheDocument();
    expect(created).toHaveLength(0);

    await user.selectOptions(screen.getByLabelText('Status'), 'won');
    expect(await screen.findByText('3 leads match')).toBeInTheDocument();
    expect(counts.at(-1)).toMatchObject({ status: 'won', per_page: '1' });
    await user.type(screen.getByLabelText('Name (for you)'), 'December offer');
    await user.type(screen.getByLabelText('Message'), 'Hello! 20% off all December.');
    await user.click(screen.getByRole('button', { name: 'Send to 3 leads' }));

    await waitFor(() => expect(router.state.location.pathname).toBe('/broadcasts/5'));
    expect(created).toHaveLength(1);
    expect(created[0]!.body).toEqual({
      name: 'December offer',
      text: 'Hello! 20% off all December.',
      attachment_id: null,
      audience: { status: 'won' },
    });
    expect(created[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(started).toBe(1);
    expect(await screen.findByText('Sending')).toBeInTheDocument();
  });

  it('puts the server’s 422 problems under their fields', async () => {
    server.use(
      http.get('*/api/broadcasts', () => HttpResponse.json(page([]))),
      http.get('*/api/leads', () => HttpResponse.json(page([], 2))),
      http.post('*/api/broadcasts', () =>
        apiError(422, 'invalid_body', 'invalid body: text: ...', [
          { field: 'text', problem: 'String should have at most 4096 characters', type: 'string_too_long' },
          { field: 'audience.q', problem: 'String should have at most 100 characters', type: 'string_too_long' },
        ]),
      ),
    );
    const { user } = await renderApp('/broadcasts?new=1');
    await screen.findByText('2 leads match');
    await user.type(screen.getByLabelText('Message'), 'Hi');
    await user.click(screen.getByRole('button', { name: 'Send to 2 leads' }));
    expect(await screen.findByText('String should have at most 4096 characters')).toBeInTheDocument();
    expect(screen.getByLabelText('Message')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('Name, phone or email contains')).toHaveAttribute('aria-invalid', 'true');
  });

  it('says when no lead matches (no_recipients) in the form', async () => {
    server.use(
      http.get('*/api/broadcasts', () => HttpResponse.json(page([]))),
      http.get('*/api/leads', () => HttpResponse.json(page([], 1))),
      http.post('*/api/broadcasts', () => apiError(422, 'no_recipients', 'the broadcast has no recipients (no lead matches)')),
    );
    const { user } = await renderApp('/broadcasts?new=1');
    await screen.findByText('1 lead matches');
    await user.type(screen.getByLabelText('Message'), 'Hi');
    await user.click(screen.getByRole('button', { name: 'Send to 1 lead' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('no lead matches');
  });
});

describe('broadcast detail', () => {
  beforeEach(() => logIn());

  function serve(initial: BroadcastStatus) {
    const state = { broadcast: makeBroadcast({ status: initial }), actions: [] as string[] };
    server.use(
      http.get('*/api/broadcasts/5', () => HttpResponse.json(state.broadcast)),
      http.post('*/api/broadcasts/5/:action', ({ params }) => {
        const action = String(params.action);
        state.actions.push(action);
        const next = { pause: 'paused', resume: 'running', cancel: 'cancelled', start: 'running' }[action] as BroadcastStatus;
        state.broadcast = { ...state.broadcast, status: next };
        return HttpResponse.json({ ...state.broadcast, job_queued: true });
      }),
    );
    return state;
  }

  it('shows sent/failed/skipped/pending and refreshes them while running', async () => {
    const state = serve('running');
    state.broadcast.progress = { total: 10, sent: 2, failed: 1, skipped: 0, pending: 7 };
    await renderApp('/broadcasts/5');
    expect(await screen.findByTestId('progress-sent')).toHaveTextContent('2');
    expect(screen.getByTestId('progress-pending')).toHaveTextContent('7');
    state.broadcast = { ...state.broadcast, progress: { total: 10, sent: 6, failed: 1, skipped: 1, pending: 2 } };
    await waitFor(() => expect(screen.getByTestId('progress-sent')).toHaveTextContent('6'), { timeout: 5000 });
    expect(screen.getByTestId('progress-skipped')).toHaveTextContent('1');
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '8');
  });

  it('pauses and resumes', async () => {
    const state = serve('running');
    const { user } = await renderApp('/broadcasts/5');
    await user.click(await screen.findByRole('button', { name: 'Pause' }));
    expect(await screen.findByRole('button', { name: 'Resume' })).toBeInTheDocument();
    expect(screen.getByText('Paused')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Resume' }));
    expect(await screen.findByRole('button', { name: 'Pause' })).toBeInTheDocument();
    expect(state.actions).toEqual(['pause', 'resume']);
  });

  it('cancels only after confirming', async () => {
    const state = serve('paused');
    const { user } = await renderApp('/broadcasts/5');
    await user.click(await screen.findByRole('button', { name: 'Cancel broadcast' }));
    let dialog = screen.getByRole('alertdialog', { name: 'Cancel this broadcast?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(state.actions).toEqual([]);

    await user.click(screen.getByRole('button', { name: 'Cancel broadcast' }));
    dialog = screen.getByRole('alertdialog');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel broadcast' }));
    expect(await screen.findByText('Cancelled')).toBeInTheDocument();
    expect(state.actions).toEqual(['cancel']);
    expect(screen.queryByRole('button', { name: 'Resume' })).not.toBeInTheDocument();
  });

  it('shows a refused action (409) and the broadcast as it now is', async () => {
    serve('running');
    server.use(
      http.post('*/api/broadcasts/5/pause', () =>
        apiError(409, 'illegal_transition', 'cannot pause a broadcast that is completed (allowed from running)'),
      ),
    );
    const { user } = await renderApp('/broadcasts/5');
    await user.click(await screen.findByRole('button', { name: 'Pause' }));
    expect(await screen.findByText(/cannot pause a broadcast that is completed/)).toBeInTheDocument();
  });

  it('shows an error for an unknown broadcast', async () => {
    server.use(http.get('*/api/broadcasts/5', () => apiError(404, 'broadcast_not_found', 'broadcast 5 not found')));
    await renderApp('/broadcasts/5');
    expect(await screen.findByText('Could not load this broadcast')).toBeInTheDocument();
  });
});
