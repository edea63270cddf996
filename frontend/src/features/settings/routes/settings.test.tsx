import { waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeUser } from '@/testing/data';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

import type { Business } from '../api/get-business';

function makeBusiness(overrides: Partial<Business> = {}): Business {
  return {
    id: 1,
    name: 'Demo Dental',
    phone_e164: '+15550100000',
    whatsapp_number: null,
    whatsapp_shard: 1,
    timezone: 'UTC',
    language: 'en',
    greeting: '',
    brain: 'receptionist',
    brain_settings: { menu: [{ digit: '1', label: 'new patients', intent: 'sales' }], extra: 42 },
    max_concurrent_calls: 5,
    is_active: true,
    webhook_url: '',
    webhook_secret_set: false,
    recording_retention_days: 0,
    created_at: '2026-12-01T10:00:00+00:00',
    updated_at: '2026-12-01T10:00:00+00:00',
    ...overrides,
  };
}

function serveBusiness(business = makeBusiness()) {
  const patches: unknown[] = [];
  let current = business;
  server.use(
    http.get('*/api/businesses/1', () => HttpResponse.json(current)),
    http.patch('*/api/businesses/1', async ({ request }) => {
      const body = (await request.json()) as Partial<Business>;
      patches.push(body);
      current = { ...current, ...body };
      return HttpResponse.json(current);
    }),
  );
  return patches;
}

describe('settings', () => {
  beforeEach(() => logIn());

  it('opens on the profile tab and saves the business name', async () => {
    const patches = serveBusiness();
    const { user, router } = await renderApp('/settings');
    await waitFor(() => expect(router.state.location.pathname).toBe('/settings/profile'));
    const name = await screen.findByLabelText('Business name');
    expect(name).toHaveValue('Demo Dental');
    await user.clear(name);
    await user.type(name, 'Smile Dental');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(patches).toEqual([{ name: 'Smile Dental', timezone: 'UTC', language: 'en' }]));
  });

  it('shows the form’s own validation inline and sends nothing', async () => {
    const patches = serveBusiness();
    const { user } = await renderApp('/settings/profile');
    const name = await screen.findByLabelText('Business name');
    await user.clear(name);
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Enter the business name')).toBeInTheDocument();
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(patches).toEqual([]);
  });

  it('puts a 422 from the server under its field', async () => {
    serveBusiness();
    server.use(
      http.patch('*/api/businesses/1', () =>
        apiError(422, 'invalid_body', 'invalid body: phone_e164: …', [
          { field: 'phone_e164', problem: 'Value error, expected an E.164 phone number such as +15550100000', type: 'value_error' },
        ]),
      ),
    );
    const { user } = await renderApp('/settings/phone');
    const phone = await screen.findByLabelText('Phone number');
    await user.clear(phone);
    await user.type(phone, '+15550100999');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/expected an E.164 phone number/)).toBeInTheDocument();
    expect(phone).toHaveAttribute('aria-invalid', 'true');
  });

  it('validates and saves the capacity as a number', async () => {
    const patches = serveBusiness();
    const { user } = await renderApp('/settings/capacity');
    const field = await screen.findByLabelText('Calls at once');
    await user.clear(field);
    await user.type(field, '20000');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('At most 10000')).toBeInTheDocument();
    await user.clear(field);
    await user.type(field, '12');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(patches).toEqual([{ max_concurrent_calls: 12 }]));
  });

  it('edits the keypad menu, keeps the other brain settings, and refuses a key used twice', async () => {
    const patches = serveBusiness();
    const { user } = await renderApp('/settings/brain');
    expect(await screen.findByLabelText('Intent')).toHaveValue('sales');
    await user.click(screen.getByRole('button', { name: 'Add a key' }));
    const intents = screen.getAllByLabelText('Intent');
    await user.type(intents[1]!, 'billing');
    await user.selectOptions(screen.getAllByLabelText('Key')[1]!, '1');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Key 1 is used twice')).toBeInTheDocument();
    expect(patches).toEqual([]);

    await user.selectOptions(screen.getAllByLabelText('Key')[1]!, '2');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(patches).toEqual([
        {
          brain: 'receptionist',
          brain_settings: {
            extra: 42,
            menu: [
              { digit: '1', label: 'new patients', intent: 'sales' },
              { digit: '2', label: 'billing', intent: 'billing' },
            ],
          },
        },
      ]),
    );
  });

  it('shows the server’s brain_settings problem at the menu', async () => {
    serveBusiness();
    server.use(
      http.patch('*/api/businesses/1', () =>
        apiError(422, 'invalid_body', 'invalid body', [
          { field: 'brain_settings', problem: 'Value error, menu: key 1 needs an intent name', type: 'value_error' },
        ]),
      ),
    );
    const { user } = await renderApp('/settings/brain');
    await screen.findByLabelText('Intent');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/key 1 needs an intent name/)).toBeInTheDocument();
  });

  it('webhook: requires a secret with a URL, shows a refused URL at its field, and redelivers', async () => {
    const patches = serveBusiness();
    const redelivered: string[] = [];
    server.use(
      http.get('*/api/webhooks/deliveries', () =>
        HttpResponse.json({
          items: [
            {
              id: 9, business_id: 1, event_id: 'evt-9', event: 'lead_created', url: 'https://hooks.example.com/x',
              status: 'failed', attempts: 5, last_status_code: 500, last_error: '', payload: {},
              created_at: '2026-12-07T09:00:00+00:00', updated_at: '2026-12-07T09:00:00+00:00', delivered_at: null,
            },
          ],
          page: 1, per_page: 20, total: 1, pages: 1,
        }),
      ),
      http.post('*/api/webhooks/deliveries/:id/redeliver', ({ params }) => {
        redelivered.push(String(params.id));
        return HttpResponse.json({}, { status: 202 });
      }),
    );
    const { user } = await renderApp('/settings/webhook');
    await user.type(await screen.findByLabelText('Webhook URL'), 'https://10.0.0.1/hook');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Set a secret: every webhook is signed with it')).toBeInTheDocument();

    server.use(
      http.patch('*/api/businesses/1', () =>
        apiError(422, 'webhook_url_refused', 'webhook_url: the host resolves to a private address'),
      ),
    );
    await user.type(screen.getByLabelText('Signing secret'), 'a-very-long-secret-123');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/resolves to a private address/)).toBeInTheDocument();
    expect(screen.getByLabelText('Webhook URL')).toHaveAttribute('aria-invalid', 'true');
    expect(patches).toEqual([]);

    const row = (await screen.findByText('evt-9')).closest('tr')!;
    expect(row).toHaveTextContent('HTTP 500');
    await user.click(within(row).getByRole('button', { name: /Redeliver/ }));
    await waitFor(() => expect(redelivered).toEqual(['9']));
  });

  it('agents see the settings read-only', async () => {
    logIn(makeUser({ role: 'agent' }));
    serveBusiness();
    await renderApp('/settings/greeting');
    expect(await screen.findByRole('textbox', { name: 'Greeting' })).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save' })).not.toBeInTheDocument();
  });

  it('shows an error when the business cannot be loaded', async () => {
    server.use(http.get('*/api/businesses/1', () => apiError(500, 'internal', 'database down')));
    await renderApp('/settings/profile');
    expect(await screen.findByText('Could not load the settings')).toBeInTheDocument();
  });
});
