import { waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeLead } from '@/testing/leads-data';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { CSRF, logIn, renderApp, screen } from '@/testing/test-utils';

const lead = { ...makeLead({ id: 4, name: 'Gus Won', status: 'contacted' }), recent_calls: [] };

describe('lead detail', () => {
  beforeEach(() => {
    logIn();
    server.use(http.get('*/api/leads/4', () => HttpResponse.json(lead)));
  });

  it('shows the calls and messages newest first and loads older ones', async () => {
    server.use(
      http.get('*/api/leads/4/timeline', ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'));
        const items =
          page === 1
            ? [
                { kind: 'message', id: 11, at: '2026-12-07T10:00:00Z', channel: 'whatsapp', direction: 'inbound', status: 'received', summary: 'Is Monday ok?', duration_seconds: null, has_recording: null },
                { kind: 'call', id: 5, at: '2026-12-06T09:00:00Z', channel: 'call', direction: 'inbound', status: 'completed', summary: 'Asked for a quote.', duration_seconds: 65, has_recording: true },
              ]
            : [{ kind: 'message', id: 9, at: '2026-12-01T08:00:00Z', channel: 'email', direction: 'outbound', status: 'sent', summary: 'Your quote', duration_seconds: null, has_recording: null }];
        return HttpResponse.json({ lead_id: 4, items, page, per_page: 20, total: 3, pages: 2 });
      }),
    );
    const { user } = await renderApp('/leads/4');
    expect(await screen.findByRole('heading', { level: 1, name: 'Gus Won' })).toBeInTheDocument();
    const history = await screen.findByRole('list', { name: 'History' });
    let items = within(history).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('WhatsApp · from the lead');
    expect(items[0]).toHaveTextContent('Is Monday ok?');
    expect(within(items[1]!).getByRole('link', { name: 'Listen and read the transcript' })).toHaveAttribute('href', '/calls/5');
    expect(items[1]).toHaveTextContent('1m 05s');
    await user.click(screen.getByRole('button', { name: 'Show older' }));
    await waitFor(() => expect(within(history).getAllByRole('listitem')).toHaveLength(3));
    items = within(history).getAllByRole('listitem');
    expect(items[2]).toHaveTextContent('Email · to the lead');
    expect(screen.queryByRole('button', { name: 'Show older' })).not.toBeInTheDocument();
    expect(within(screen.getByRole('main')).getByRole('link', { name: 'Calls' })).toHaveAttribute('href', '/calls?lead_id=4');
  });

  it('saves edits and shows the server refusing a phone number on its field', async () => {
    server.use(http.get('*/api/leads/4/timeline', () => HttpResponse.json({ lead_id: 4, items: [], page: 1, per_page: 20, total: 0, pages: 0 })));
    let sent: { body: unknown; csrf: string | null } | undefined;
    server.use(
      http.patch('*/api/leads/4', async ({ request }) => {
        sent = { body: await request.json(), csrf: request.headers.get('X-CSRF-Token') };
        return apiError(409, 'conflict', 'the phone number belongs to another lead');
      }),
    );
    const { user } = await renderApp('/leads/4');
    expect(await screen.findByText('Nothing yet')).toBeInTheDocument();
    const form = screen.getByRole('form', { name: 'Edit lead' });
    const phone = within(form).getByLabelText('Phone');
    await user.clear(phone);
    await user.type(phone, '555');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText(/international format/)).toBeInTheDocument();
    expect(sent).toBeUndefined();
    await user.clear(phone);
    await user.type(phone, '+15551230099');
    await user.selectOptions(within(form).getByLabelText('Status'), 'won');
    await user.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByText('the phone number belongs to another lead')).toBeInTheDocument();
    expect(sent).toEqual({
      body: { name: 'Gus Won', email: '', phone_e164: '+15551230099', status: 'won', notes: '' },
      csrf: CSRF,
    });
  });

  it('calls the lead through the API and says when it cannot', async () => {
    server.use(http.get('*/api/leads/4/timeline', () => HttpResponse.json({ lead_id: 4, items: [], page: 1, per_page: 20, total: 0, pages: 0 })));
    const bodies: unknown[] = [];
    let refuse = false;
    server.use(
      http.post('*/api/calls/outbound', async ({ request }) => {
        bodies.push(await request.json());
        return refuse
          ? apiError(503, 'twilio_not_configured', 'outbound calls need TWILIO_ACCOUNT_SID')
          : HttpResponse.json({ id: 50, call_sid: 'CA50', status: 'queued' }, { status: 201 });
      }),
    );
    const { user } = await renderApp('/leads/4');
    await user.click(await screen.findByRole('button', { name: 'Call now' }));
    expect(await screen.findByText(/Calling…/)).toBeInTheDocument();
    refuse = true;
    await user.click(screen.getByRole('button', { name: 'Call now' }));
    expect(await screen.findByText('Could not call: outbound calls need TWILIO_ACCOUNT_SID')).toBeInTheDocument();
    expect(bodies).toEqual([{ lead_id: 4 }, { lead_id: 4 }]);
  });

  it('shows an unknown lead as not found', async () => {
    server.use(http.get('*/api/leads/77', () => apiError(404, 'not_found', 'no lead 77')));
    await renderApp('/leads/77');
    expect(await screen.findByText(/could not be found/)).toBeInTheDocument();
  });
});
