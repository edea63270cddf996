import { waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

import type { EmailAccount } from '../api/get-email-accounts';

const account: EmailAccount = {
  id: 3,
  business_id: 1,
  address: 'hello@demo.example',
  imap_host: 'imap.demo.example',
  imap_port: 993,
  imap_username: 'hello',
  tls_mode: 'ssl',
  mailbox: 'INBOX',
  is_active: true,
  sync_interval_seconds: 300,
  password_set: true,
  last_uid: 10,
  uid_validity: 1,
  last_synced_at: '2026-12-07T09:00:00+00:00',
  last_error: 'LOGIN failed',
  consecutive_failures: 2,
  next_sync_at: '2026-12-07T09:10:00+00:00',
  created_at: '2026-12-01T10:00:00+00:00',
};

describe('settings → email', () => {
  let items: EmailAccount[];
  let bodies: { method: string; url: string; body: unknown }[];

  beforeEach(() => {
    logIn();
    items = [account];
    bodies = [];
    server.use(
      http.get('*/api/email-accounts', () => HttpResponse.json({ items })),
      http.post('*/api/email-accounts', async ({ request }) => {
        const body = (await request.json()) as Partial<EmailAccount>;
        bodies.push({ method: 'POST', url: request.url, body });
        items = [...items, { ...account, ...body, id: 4, last_error: '' }];
        return HttpResponse.json(items.at(-1), { status: 201 });
      }),
      http.patch('*/api/email-accounts/3', async ({ request }) => {
        bodies.push({ method: 'PATCH', url: request.url, body: await request.json() });
        return HttpResponse.json(account);
      }),
      http.post('*/api/email-accounts/3/sync', () => {
        bodies.push({ method: 'SYNC', url: '', body: null });
        return HttpResponse.json({ account_id: 3, job_id: 'j', queued: true }, { status: 202 });
      }),
      http.delete('*/api/email-accounts/3', () => {
        bodies.push({ method: 'DELETE', url: '', body: null });
        items = [];
        return HttpResponse.json({ deleted: 3 });
      }),
    );
  });

  it('lists mailboxes with their sync status, syncs now and deletes after confirming', async () => {
    const { user } = await renderApp('/settings/email');
    const card = await screen.findByRole('listitem', { name: 'hello@demo.example' });
    expect(card).toHaveTextContent('LOGIN failed (2 times in a row)');
    expect(within(card).getByText('Failing')).toBeInTheDocument();
    await user.click(within(card).getByRole('button', { name: 'Sync now' }));
    await waitFor(() => expect(bodies.map((b) => b.method)).toEqual(['SYNC']));
    await user.click(within(card).getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete this mailbox?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('No mailboxes')).toBeInTheDocument();
  });

  it('adds a mailbox with validation, and maps the server’s problems to fields', async () => {
    const { user } = await renderApp('/settings/email');
    await user.click(await screen.findByRole('button', { name: 'Add a mailbox' }));
    const form = screen.getByRole('form', { name: 'Add a mailbox' });
    await user.click(within(form).getByRole('button', { name: 'Add mailbox' }));
    expect(await within(form).findByText('Enter an email address')).toBeInTheDocument();
    expect(within(form).getByText('Enter the password')).toBeInTheDocument();
    expect(bodies).toEqual([]);

    server.use(
      http.post('*/api/email-accounts', () =>
        apiError(409, 'email_account_exists', 'the business already has the email account sales@demo.example'),
      ),
    );
    await user.type(within(form).getByLabelText('Email address'), 'sales@demo.example');
    await user.type(within(form).getByLabelText('IMAP server'), 'imap.demo.example');
    await user.type(within(form).getByLabelText('User name'), 'sales');
    await user.type(within(form).getByLabelText('Password'), 'pw');
    await user.click(within(form).getByRole('button', { name: 'Add mailbox' }));
    expect(await within(form).findByText(/already has the email account/)).toBeInTheDocument();
    expect(within(form).getByLabelText('Email address')).toHaveAttribute('aria-invalid', 'true');

    server.use(
      http.post('*/api/email-accounts', () =>
        apiError(422, 'invalid_body', 'invalid body', [
          { field: 'imap_host', problem: 'String should match pattern', type: 'string_pattern_mismatch' },
        ]),
      ),
    );
    await user.click(within(form).getByRole('button', { name: 'Add mailbox' }));
    expect(await within(form).findByText('String should match pattern')).toBeInTheDocument();
    expect(within(form).getByLabelText('IMAP server')).toHaveAttribute('aria-invalid', 'true');
  });

  it('edits a mailbox without sending the password unless typed', async () => {
    const { user } = await renderApp('/settings/email');
    const card = await screen.findByRole('listitem', { name: 'hello@demo.example' });
    await user.click(within(card).getByRole('button', { name: 'Edit' }));
    const form = screen.getByRole('form', { name: 'Edit hello@demo.example' });
    const minutes = within(form).getByLabelText('Check every (minutes)');
    await user.clear(minutes);
    await user.type(minutes, '15');
    await user.click(within(form).getByRole('button', { name: 'Save mailbox' }));
    await waitFor(() => expect(bodies).toHaveLength(1));
    const body = bodies[0]!.body as Record<string, unknown>;
    expect(body.sync_interval_seconds).toBe(900);
    expect(body).not.toHaveProperty('password');
  });
});
