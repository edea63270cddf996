import { act, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeUser } from '@/testing/data';
import { FakeEventSource } from '@/testing/fake-event-source';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { CSRF, logIn, renderApp, screen } from '@/testing/test-utils';
import { makeWhatsAppStatus } from '@/testing/whatsapp-data';

describe('settings → WhatsApp', () => {
  beforeEach(() => {
    FakeEventSource.reset();
    vi.stubGlobal('EventSource', FakeEventSource);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('re-connect starts a new session and shows the QR code to scan', async () => {
    logIn();
    const connects: (string | null)[] = [];
    let status = makeWhatsAppStatus({ state: 'logged_out', me: null });
    server.use(
      http.get('*/api/whatsapp/status', () => HttpResponse.json(status)),
      http.post('*/api/whatsapp/connect', ({ request }) => {
        connects.push(request.headers.get('X-CSRF-Token'));
        status = makeWhatsAppStatus({ state: 'qr', me: null, qr: '2@abc,def,ghi' });
        return HttpResponse.json(status);
      }),
      http.get('*/api/whatsapp/qr', () =>
        HttpResponse.json({ qr: '2@abc,def,ghi', expires_at: new Date(Date.now() + 20_000).toISOString() }),
      ),
    );
    const { user } = await renderApp('/settings/whatsapp');
    expect(await screen.findByText('Logged out')).toBeInTheDocument();
    expect(screen.queryByRole('img', { name: /QR code/ })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Re-connect' }));
    const qr = await screen.findByRole('img', { name: /WhatsApp QR code/ });
    expect(qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(screen.getByText('Waiting for scan')).toBeInTheDocument();
    expect(connects).toEqual([CSRF]);

    // The phone scanned it: the event stream says so and the QR goes away.
    status = makeWhatsAppStatus({ state: 'connected' });
    act(() => FakeEventSource.latest.emit('whatsapp_state', { business_id: '1', state: 'connected', ts: '1' }));
    expect(await screen.findByText('Connected')).toBeInTheDocument();
    expect(screen.queryByRole('img', { name: /WhatsApp QR code/ })).not.toBeInTheDocument();
  });

  it('fetches the QR when the session starts without one, and shows a refused re-connect', async () => {
    logIn();
    let state: 'stopped' | 'qr' = 'stopped';
    server.use(
      http.get('*/api/whatsapp/status', () => HttpResponse.json(makeWhatsAppStatus({ state, me: null }))),
      http.post('*/api/whatsapp/connect', () =>
        apiError(503, 'gateway_unavailable', 'the WhatsApp gateway of shard 1 is unreachable'),
      ),
      http.get('*/api/whatsapp/qr', () =>
        HttpResponse.json({ qr: 'qr-from-get', expires_at: new Date(Date.now() + 20_000).toISOString() }),
      ),
    );
    const { user } = await renderApp('/settings/whatsapp');
    await user.click(await screen.findByRole('button', { name: 'Re-connect' }));
    expect(await screen.findByText(/gateway of shard 1 is unreachable/)).toBeInTheDocument();

    state = 'qr';
    act(() => FakeEventSource.latest.emit('whatsapp_state', { business_id: '1', state: 'qr', ts: '2' }));
    expect(await screen.findByRole('img', { name: /WhatsApp QR code/ })).toBeInTheDocument();
    // Another business's event changes nothing.
    act(() => FakeEventSource.latest.emit('whatsapp_state', { business_id: '2', state: 'failed', ts: '3' }));
    await waitFor(() => expect(screen.queryByText('Failed')).not.toBeInTheDocument());
  });

  it('after the scan the phone is read again, and a session left starting is asked again', async () => {
    logIn();
    let status = makeWhatsAppStatus({ state: 'starting', me: null });
    server.use(
      http.get('*/api/whatsapp/status', () => HttpResponse.json(status)),
      http.get('*/api/whatsapp/qr', () => HttpResponse.json({ qr: '2@q', expires_at: new Date(Date.now() + 20_000).toISOString() })),
    );
    await renderApp('/settings/whatsapp');
    expect(await screen.findByText('Starting')).toBeInTheDocument();

    // No event comes (a stream that was down): the page asks again while the session starts.
    status = makeWhatsAppStatus({ state: 'qr', me: null });
    expect(await screen.findByText('Waiting for scan', {}, { timeout: 6_000 })).toBeInTheDocument();

    // The scan: the event says connected, and the phone it connected comes with the status.
    status = makeWhatsAppStatus({ state: 'connected', me: { phone: '+15557654321', lid: null } });
    act(() => FakeEventSource.latest.emit('whatsapp_state', { business_id: '1', state: 'connected', ts: '9' }));
    expect(await screen.findByText('+15557654321')).toBeInTheDocument();
  }, 10_000);

  it('agents see the state but no re-connect button', async () => {
    logIn(makeUser({ role: 'agent' }));
    server.use(http.get('*/api/whatsapp/status', () => HttpResponse.json(makeWhatsAppStatus())));
    await renderApp('/settings/whatsapp');
    expect(await screen.findByText('Connected')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Re-connect' })).not.toBeInTheDocument();
  });
});
