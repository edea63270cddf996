import { waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeUser } from '@/testing/data';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

import type { Overview } from '../api/get-overview';

const overview: Overview = {
  instances: [
    { id: 'calls-a', live: true, active: 3, capacity: 10, pending: 1, draining: false, version: '1.4.0', started_at: '2026-12-07T08:00:00+00:00' },
    { id: 'calls-b', live: true, active: 5, capacity: 10, pending: 0, draining: true, version: '1.4.0', started_at: '2026-12-07T08:00:00+00:00' },
  ],
  queues: [
    { name: 'high', depth: 0 },
    { name: 'default', depth: 4 },
    { name: 'failed', depth: 1 },
  ],
  dead_letters: 1,
  workers: [{ name: 'w1', hostname: 'host', pid: 77, queues: ['high', 'default'], state: 'busy', current_job: 'job-9', last_heartbeat: '2026-12-07T09:00:00+00:00' }],
  scheduler: { leader: 'scheduler@host:12', token: 't', expires_in_ms: 25_000 },
  gateway_shards: [{ shard: 1, url: 'http://127.0.0.1:3001', healthy: true, state: 'ok', detail: null, sessions: { connected: 2, qr: 1 } }],
  generated_at: '2026-12-07T09:00:05+00:00',
};

const letter = {
  id: 'job-1',
  function: 'jobs.webhooks.deliver',
  queue: 'default',
  reason: 'PermanentJobError: 410 Gone',
  error: 'PermanentJobError',
  failed_at: '2026-12-07T08:30:00+00:00',
};

describe('operations', () => {
  it('shows a 403 state to anyone but a system admin, without asking the API', async () => {
    logIn(makeUser({ role: 'owner' }));
    let asked = 0;
    server.use(http.get('*/api/ops/overview', () => {
      asked += 1;
      return HttpResponse.json(overview);
    }));
    await renderApp('/operations');
    expect(await screen.findByText(/403 — system administrators only/)).toBeInTheDocument();
    expect(asked).toBe(0);
  });

  it('shows the 403 state when the API refuses', async () => {
    logIn(makeUser({ role: 'system_admin', business_id: null }));
    server.use(
      http.get('*/api/ops/overview', () => apiError(403, 'role_required', 'requires role system_admin')),
      http.get('*/api/ops/dead-letters', () => apiError(403, 'role_required', 'requires role system_admin')),
    );
    await renderApp('/operations');
    expect(await screen.findByText(/403 — system administrators only/)).toBeInTheDocument();
  });

  describe('as a system admin', () => {
    let requeued: string[];
    let purged: string[];
    let letters: (typeof letter)[];

    beforeEach(() => {
      logIn(makeUser({ role: 'system_admin', business_id: null }));
      requeued = [];
      purged = [];
      letters = [letter];
      server.use(
        http.get('*/api/ops/overview', () => HttpResponse.json({ ...overview, dead_letters: letters.length })),
        http.get('*/api/ops/dead-letters', () =>
          HttpResponse.json({ items: letters, page: 1, per_page: 20, total: letters.length, pages: 1 }),
        ),
        http.post('*/api/ops/dead-letters/:id/requeue', ({ params }) => {
          requeued.push(String(params.id));
          letters = letters.filter((l) => l.id !== params.id);
          return HttpResponse.json({ id: params.id, queue: 'default', retries: 3 });
        }),
        http.delete('*/api/ops/dead-letters/:id', ({ params }) => {
          purged.push(String(params.id));
          letters = letters.filter((l) => l.id !== params.id);
          return new HttpResponse(null, { status: 204 });
        }),
      );
    });

    it('shows instances, capacity, queues, workers, the leader and the shards', async () => {
      await renderApp('/operations');
      expect(await screen.findByTestId('cluster-active')).toHaveTextContent('8 / 20');
      expect(screen.getByText('calls-b').closest('tr')).toHaveTextContent('Draining');
      expect(screen.getByRole('table', { name: 'Queues' })).toHaveTextContent('default4');
      expect(screen.getByText('scheduler@host:12')).toBeInTheDocument();
      expect(screen.getByRole('table', { name: 'WhatsApp gateway shards' })).toHaveTextContent('Connected: 2, Qr: 1');
      expect(screen.getByRole('table', { name: 'Workers' })).toHaveTextContent('job-9');
    });

    it('requeues a dead letter only after confirming', async () => {
      const { user } = await renderApp('/operations');
      await user.click(await screen.findByRole('button', { name: 'Requeue job-1' }));
      let dialog = screen.getByRole('alertdialog', { name: 'Requeue this job?' });
      await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
      expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
      expect(requeued).toEqual([]);

      await user.click(screen.getByRole('button', { name: 'Requeue job-1' }));
      dialog = screen.getByRole('alertdialog', { name: 'Requeue this job?' });
      await user.click(within(dialog).getByRole('button', { name: 'Requeue' }));
      await waitFor(() => expect(requeued).toEqual(['job-1']));
      expect(await screen.findByText('No dead letters')).toBeInTheDocument();
      await waitFor(() => expect(screen.getByTestId('dead-letter-count')).toHaveTextContent('0'));
    });

    it('purges a dead letter after confirming', async () => {
      const { user } = await renderApp('/operations');
      await user.click(await screen.findByRole('button', { name: 'Purge job-1' }));
      const dialog = screen.getByRole('alertdialog', { name: 'Purge this job?' });
      expect(dialog).toHaveTextContent('cannot be undone');
      await user.click(within(dialog).getByRole('button', { name: 'Purge' }));
      await waitFor(() => expect(purged).toEqual(['job-1']));
    });

    it('shows a failed requeue (409 unreadable)', async () => {
      server.use(
        http.post('*/api/ops/dead-letters/:id/requeue', () =>
          apiError(409, 'dead_letter_unreadable', 'the job job-1 cannot be read back'),
        ),
      );
      const { user } = await renderApp('/operations');
      await user.click(await screen.findByRole('button', { name: 'Requeue job-1' }));
      await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Requeue' }));
      expect(await screen.findByText('the job job-1 cannot be read back')).toBeInTheDocument();
    });

    it('shows an error when the overview cannot be loaded (Redis down)', async () => {
      server.use(http.get('*/api/ops/overview', () => apiError(503, 'redis_unavailable', 'Redis is unreachable')));
      await renderApp('/operations');
      expect(await screen.findByText('Could not load the overview')).toBeInTheDocument();
      expect(screen.getByText('Redis is unreachable')).toBeInTheDocument();
    });
  });
});
