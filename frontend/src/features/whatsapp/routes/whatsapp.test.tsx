import { waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { FakeEventSource } from '@/testing/fake-event-source';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';
import { makeWhatsAppStatus } from '@/testing/whatsapp-data';

import type { Conversation, WhatsAppMessage } from '../api/types';

const page = <T,>(items: T[]) => ({ items, page: 1, per_page: 50, total: items.length, pages: 1 });

function message(id: number, body: string, direction: 'inbound' | 'outbound' = 'inbound'): WhatsAppMessage {
  return {
    id,
    lead_id: 7,
    direction,
    message_id: `WA${id}`,
    peer: '+15551230000',
    body,
    media: [],
    status: direction === 'inbound' ? 'received' : 'sent',
    created_at: `2026-12-07T09:0${id}:00+00:00`,
  };
}

const conversation: Conversation = {
  lead: { id: 7, name: 'Ann Lee', phone_e164: '+15551230000', status: 'new' },
  last_message: message(2, 'Are you open on Saturday?'),
  unread: 2,
};

describe('WhatsApp inbox', () => {
  let reads: number;
  let sent: { body: unknown; key: string | null }[];

  beforeEach(() => {
    FakeEventSource.reset();
    vi.stubGlobal('EventSource', FakeEventSource);
    logIn();
    reads = 0;
    sent = [];
    server.use(
      http.get('*/api/whatsapp/status', () => HttpResponse.json(makeWhatsAppStatus())),
      http.get('*/api/whatsapp/conversations', () => HttpResponse.json(page([{ ...conversation, unread: reads ? 0 : 2 }]))),
      http.get('*/api/whatsapp/conversations/7/messages', () =>
        HttpResponse.json(page([message(2, 'Are you open on Saturday?'), message(1, 'Hello')])),
      ),
      http.post('*/api/whatsapp/conversations/7/read', () => {
        reads += 1;
        return HttpResponse.json({ marked: 2, receipts: 'sent' });
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists conversations with unread counts; opening one shows its messages and marks it read', async () => {
    const { user } = await renderApp('/whatsapp');
    const list = await screen.findByRole('list', { name: 'Conversations' });
    const link = within(list).getByRole('link', { name: /Ann Lee/ });
    expect(link).toHaveTextContent('2 unread');
    await user.click(link);
    const thread = await screen.findByRole('region', { name: 'Messages with Ann Lee' });
    const bubbles = within(thread).getAllByRole('listitem');
    expect(bubbles[0]).toHaveTextContent('Hello'); // oldest first
    expect(bubbles[1]).toHaveTextContent('Are you open on Saturday?');
    await waitFor(() => expect(reads).toBe(1));
    await waitFor(() => expect(within(list).getByRole('link', { name: /Ann Lee/ })).not.toHaveTextContent('unread'));
  });

  it('a reply shows at once, then as stored', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    server.use(
      http.post('*/api/whatsapp/messages', async ({ request }) => {
        sent.push({ body: await request.json(), key: request.headers.get('Idempotency-Key') });
        await held;
        return HttpResponse.json({ ...message(3, 'Yes, 9 to 1', 'outbound'), duplicate: false }, { status: 201 });
      }),
    );
    const { user } = await renderApp('/whatsapp?lead=7');
    await screen.findByRole('region', { name: 'Messages with Ann Lee' });
    await user.type(screen.getByLabelText('Reply'), 'Yes, 9 to 1');
    await user.click(screen.getByRole('button', { name: 'Send' }));
    const pending = await screen.findByTestId('outgoing');
    expect(pending).toHaveTextContent('Yes, 9 to 1');
    expect(pending).toHaveTextContent('Sending…');
    expect(screen.getByLabelText('Reply')).toHaveValue('');
    release();
    await waitFor(() => expect(screen.queryByTestId('outgoing')).not.toBeInTheDocument());
    const thread = screen.getByRole('region', { name: 'Messages with Ann Lee' });
    expect(within(thread).getByText('Yes, 9 to 1')).toBeInTheDocument();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ lead_id: 7, text: 'Yes, 9 to 1' });
    expect(sent[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a refused reply stays, marked failed with the reason; retry sends it with the same key', async () => {
    let fail = true;
    server.use(
      http.post('*/api/whatsapp/messages', async ({ request }) => {
        sent.push({ body: await request.json(), key: request.headers.get('Idempotency-Key') });
        if (fail) return apiError(409, 'not_connected', 'WhatsApp is not connected for this business');
        return HttpResponse.json(message(3, 'See you', 'outbound'), { status: 201 });
      }),
    );
    const { user } = await renderApp('/whatsapp?lead=7');
    await screen.findByRole('region', { name: 'Messages with Ann Lee' });
    await user.type(screen.getByLabelText('Reply'), 'See you{Enter}');
    const failed = await screen.findByText(/Not sent: WhatsApp is not connected/);
    expect(screen.getByTestId('outgoing')).toHaveTextContent('See you');
    fail = false;
    await user.click(within(failed).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.queryByTestId('outgoing')).not.toBeInTheDocument());
    expect(sent).toHaveLength(2);
    expect(sent[1]!.key).toBe(sent[0]!.key);
  });

  it('an empty reply is refused before sending', async () => {
    const { user } = await renderApp('/whatsapp?lead=7');
    await screen.findByRole('region', { name: 'Messages with Ann Lee' });
    await user.click(screen.getByRole('button', { name: 'Send' }));
    expect(await screen.findByText('Write a message first')).toBeInTheDocument();
    expect(sent).toHaveLength(0);
  });

  it('says when there are no conversations, and when they cannot be loaded', async () => {
    server.use(http.get('*/api/whatsapp/conversations', () => HttpResponse.json(page([]))));
    await renderApp('/whatsapp');
    expect(await screen.findByText('No conversations yet')).toBeInTheDocument();
  });

  it('shows an error with a retry when the conversations fail to load', async () => {
    server.use(http.get('*/api/whatsapp/conversations', () => apiError(500, 'internal', 'database unavailable')));
    await renderApp('/whatsapp');
    expect(await screen.findByText('Could not load the conversations')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
