// A full-page screenshot of every page (the suite's artefacts, SCREENSHOT_DIR): each opens
// without an error screen. Operations as the system admin. The pages whose own specs run
// elsewhere are shot here too, as they are now (some still placeholders: support/pending.ts).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { ApiClient, DESKTOP, env, eventually, launch, newPage, screenshot } from './support/stack';

const SETTINGS_TABS = ['profile', 'phone', 'greeting', 'brain', 'capacity', 'webhook', 'email', 'whatsapp'];

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser.close();
});

async function open(page: Page, path: string, heading: string | RegExp): Promise<void> {
  await page.goto(path);
  await page.getByRole('heading', { name: heading }).first().waitFor();
  expect(await page.getByText(/something went wrong|page not found/i).count(), `${path} shows an error`).toBe(0);
}

it('shows every page of the owner', async () => {
  const api = await ApiClient.logIn();
  const calls = await api.get<{ items: { id: number }[] }>('/api/calls?per_page=1');
  const leads = await api.get<{ items: { id: number }[] }>('/api/leads?per_page=1');
  const broadcasts = await api.get<{ items: { id: number }[] }>('/api/broadcasts');
  const { page, context } = await newPage(browser, DESKTOP, env.owner);
  const pages: [string, string | RegExp, string][] = [
    ['/', 'Dashboard', 'page-dashboard'],
    ['/calls', 'Calls', 'page-calls'],
    ['/leads', 'Leads', 'page-leads'],
    ['/leads/board', 'Lead board', 'page-leads-board'],
    ['/whatsapp', /WhatsApp/, 'page-whatsapp'],
    ['/broadcasts', 'Broadcasts', 'page-broadcasts'],
  ];
  if (calls.items[0]) pages.push([`/calls/${calls.items[0].id}`, 'Recording', 'page-call-detail']);
  if (leads.items[0]) pages.push([`/leads/${leads.items[0].id}`, /./, 'page-lead-detail']);
  if (broadcasts.items[0]) pages.push([`/broadcasts/${broadcasts.items[0].id}`, /./, 'page-broadcast-detail']);
  for (const [path, heading, name] of pages) {
    await open(page, path, heading);
    await screenshot(page, name);
  }
  for (const tab of SETTINGS_TABS) {
    await open(page, `/settings/${tab}`, 'Settings');
    await screenshot(page, `page-settings-${tab}`);
  }
  await context.close();
});

it('shows Settings → WhatsApp with the QR code while the session waits for a scan', async () => {
  const api = await ApiClient.logIn();
  const status = await api.get<{ state: string }>('/api/whatsapp/status');
  if (status.state !== 'connected') {
    await api.request('POST', '/api/whatsapp/connect');
    await eventually(async () => (await api.get<{ state: string; qr: string | null }>('/api/whatsapp/status')).qr, 'a QR code');
  }
  const { page, context } = await newPage(browser, DESKTOP, env.owner);
  await page.goto('/settings/whatsapp');
  await page.getByRole('heading', { name: 'WhatsApp' }).first().waitFor();
  await screenshot(page, 'page-settings-whatsapp-qr');
  await context.close();
});

it('shows Operations to the system admin', async () => {
  const { page, context } = await newPage(browser, DESKTOP, env.admin);
  await open(page, '/operations', 'Operations');
  await screenshot(page, 'page-operations-admin');
  await context.close();
});
