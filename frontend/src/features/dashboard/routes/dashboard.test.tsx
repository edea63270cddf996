import { act, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeDashboard } from '@/testing/dashboard-data';
import { FakeEventSource } from '@/testing/fake-event-source';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

describe('dashboard', () => {
  let dashboardRequests: number;

  beforeEach(() => {
    dashboardRequests = 0;
    logIn();
    server.use(
      http.get('*/api/dashboard', () => {
        dashboardRequests += 1;
        return HttpResponse.json(makeDashboard());
      }),
    );
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the numbers and updates them the moment events arrive', async () => {
    await renderApp('/');
    expect(await screen.findByTestId('active-calls-value')).toHaveTextContent('2 / 5');
    expect(screen.getByTestId('answered-24h')).toHaveTextContent('27');
    expect(screen.getByTestId('rejected-24h')).toHaveTextContent('1');
    const stream = FakeEventSource.latest;
    expect(stream.url).toBe('/api/events');
    expect(stream.init?.withCredentials).toBe(true);
    act(() => stream.open());
    expect(screen.getByText('Live')).toBeInTheDocument();

    act(() => stream.emit('call_started', { call_sid: 'CA-new', business_id: '1', instance: 'i1', ts: String(Date.now()) }, '1-0'));
    expect(screen.getByTestId('active-calls-value')).toHaveTextContent('3 / 5');
    expect(screen.getByTestId('cluster-capacity-value')).toHaveTextContent('4 / 20');
    expect(screen.getByTestId('answered-24h')).toHaveTextContent('28');
    const live = screen.getByRole('region', { name: 'Active calls' });
    expect(within(live).getByText('CA-new')).toBeInTheDocument();

    act(() => stream.emit('rejected', { call_sid: 'CA-x', business_id: '1', reason: 'capacity' }, '2-0'));
    act(() => stream.emit('rejected', { call_sid: 'CA-y', business_id: '1', reason: 'unknown_number' }, '3-0'));
    expect(screen.getByTestId('rejected-24h')).toHaveTextContent('3');
    const rejected = screen.getByRole('region', { name: 'Rejected calls' });
    expect(within(rejected).getByText('Unknown number')).toBeInTheDocument();

    act(() => stream.emit('call_ended', { call_sid: 'CA-new', business_id: '1', reason: 'stopped', duration_ms: '900' }, '4-0'));
    expect(screen.getByTestId('active-calls-value')).toHaveTextContent('2 / 5');
    expect(within(live).queryByText('CA-new')).not.toBeInTheDocument();

    act(() => stream.emit('whatsapp_state', { business_id: '1', state: 'logged_out' }, '5-0'));
    expect(within(screen.getByRole('region', { name: 'WhatsApp' })).getByText('Logged out')).toBeInTheDocument();
    expect(dashboardRequests).toBe(1);
  });

  it('says it is reconnecting, retries with backoff and refetches the numbers', async () => {
    await renderApp('/');
    await screen.findByTestId('active-calls-value');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const first = FakeEventSource.latest;
    act(() => first.open());
    act(() => first.fail());
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    expect(screen.getByText('Reconnecting…')).toBeInTheDocument();
    expect(FakeEventSource.instances).toHaveLength(1);
    // The first retry waits 0.5-1 s (VITE_APP_EVENTS_RETRY_MIN_MS 1000, jittered).
    await act(async () => {
      await vi.advanceTimersByTimeAsync(400);
    });
    expect(FakeEventSource.instances).toHaveLength(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(700);
    });
    vi.useRealTimers();
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(2));
    const second = FakeEventSource.latest;
    act(() => second.open());
    expect(screen.getByText('Live')).toBeInTheDocument();
    await waitFor(() => expect(dashboardRequests).toBe(2));
  });

  it('goes to the login page when the stream fails because the session ended', async () => {
    const { router } = await renderApp('/');
    await screen.findByTestId('active-calls-value');
    server.use(http.get('*/api/auth/me', () => apiError(401, 'not_authenticated', 'log in first')));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    act(() => FakeEventSource.latest.emit('closed', { reason: 'session_ended' }));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1100);
    });
    vi.useRealTimers();
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('shows an error with a retry when the numbers cannot be loaded', async () => {
    server.use(http.get('*/api/dashboard', () => apiError(503, 'unavailable', 'the database is unreachable')));
    const { user } = await renderApp('/');
    expect(await screen.findByText('the database is unreachable')).toBeInTheDocument();
    server.use(http.get('*/api/dashboard', () => HttpResponse.json(makeDashboard())));
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('active-calls-value')).toHaveTextContent('2 / 5');
  });
});
