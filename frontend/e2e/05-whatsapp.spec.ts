// WhatsApp: Settings → WhatsApp shows the QR, the fake phone scans it and the page says
// connected; a message from the fake phone shows up in the inbox; the reply typed there is what
// the fake phone receives.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pending } from './support/pending';
import { ApiClient, DESKTOP, env, eventually, fakePhone, launch, newPage, screenshot } from './support/stack';

const CUSTOMER = '+15558880001';
type Sent = { sent: { to?: string; jid?: string; text?: string }[] };

let browser: Browser;
let businessId: number;
beforeAll(async () => {
  browser = await launch();
  const me = await (await ApiClient.logIn()).get<{ user: { business_id: number } } | { business_id: number }>('/api/auth/me');
  businessId = 'user' in me ? me.user.business_id : me.business_id;
});
afterAll(async () => {
  await browser.close();
});

describe.skipIf(pending('whatsapp'))('whatsapp', () => {
  it('connects by QR, receives a message and sends the reply typed in the inbox', async () => {
    const api = await ApiClient.logIn();
    if ((await api.get<{ state: string }>('/api/whatsapp/status')).state !== 'logged_out') {
      await api.request('POST', '/api/whatsapp/logout'); // from a session that needs a scan
    }
    const { page, context } = await newPage(browser, DESKTOP, env.owner);
    await page.goto('/settings/whatsapp');
    await page.getByRole('button', { name: /connect/i }).first().click();
    await page.getByRole('img', { name: /QR/i }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'settings-whatsapp-qr');
    await fakePhone('POST', `/fake/${businessId}/scan`, { phone: '+15550001234' });
    await page.getByText('Connected', { exact: true }).first().waitFor({ timeout: 30_000 });
    await page.reload();
    await page.getByText('+15550001234').waitFor(); // the phone the session is on

    await fakePhone('POST', `/fake/${businessId}/inbound`, { from_phone: CUSTOMER, push_name: 'Dana', text: 'hello from the e2e phone' });
    await page.goto('/whatsapp');
    await page.getByText('Dana').first().click({ timeout: 30_000 });
    // the thread, not the list's preview of the same text (both show it once the list refreshes)
    const thread = page.getByRole('region', { name: /messages with/i });
    await thread.getByText('hello from the e2e phone').waitFor();
    const reply = `Thanks Dana, e2e ${Date.now()}`;
    await page.getByRole('textbox', { name: /message|reply/i }).fill(reply);
    await page.getByRole('button', { name: /send/i }).click();
    const sent = await eventually(async () => {
      const { sent } = await fakePhone<Sent>('GET', `/fake/${businessId}/sent`);
      return sent.find((s) => s.text === reply);
    }, 'the fake phone to receive the reply', 30_000);
    expect(sent.text).toBe(reply);
    await thread.getByText(reply).first().waitFor();
    await screenshot(page, 'whatsapp-inbox');
    await context.close();
  });
});
