// A small broadcast (3 leads) created and started in the app runs to completion; its page
// shows every recipient sent, and the fake WhatsApp phone saw each once.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pending } from './support/pending';
import { ApiClient, DESKTOP, env, eventually, fakePhone, launch, newPage, screenshot } from './support/stack';

type Broadcast = { id: number; status: string; name: string | null };

let browser: Browser;
let api: ApiClient;
let businessId: number;
beforeAll(async () => {
  browser = await launch();
  api = await ApiClient.logIn();
  const me = await api.get<{ user: { business_id: number } } | { business_id: number }>('/api/auth/me');
  businessId = 'user' in me ? me.user.business_id : me.business_id;
});
afterAll(async () => {
  await browser.close();
});

describe.skipIf(pending('broadcasts'))('broadcasts', () => {
  it('runs a broadcast to three leads to completion', async () => {
    const leadIds: number[] = [];
    for (const n of [1, 2, 3]) {
      const lead = await api.request<{ id: number }>('POST', '/api/leads', { phone_e164: `+1555999000${n}`, name: `Broadcast ${n}` });
      leadIds.push(lead.id);
    }
    const text = `Winter sale, e2e ${Date.now()}`;
    const { page, context } = await newPage(browser, DESKTOP, env.owner);
    await page.goto('/broadcasts');
    await screenshot(page, 'broadcasts');
    // The audience: these three leads (the form's lead picker is the page owner's; the API
    // creates it so the spec exercises the list, the start button and the live progress).
    const made = await api.request<Broadcast>('POST', '/api/broadcasts', { name: 'e2e three', text, audience: { lead_ids: leadIds }, idempotency_key: `e2e-${Date.now()}` });
    await page.goto(`/broadcasts/${made.id}`);
    await page.getByRole('button', { name: 'Start sending' }).click();
    await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 60_000 });
    await screenshot(page, 'broadcast-detail');
    const sent = await eventually(async () => {
      const { sent } = await fakePhone<{ sent: { text?: string }[] }>('GET', `/fake/${businessId}/sent`);
      const mine = sent.filter((s) => s.text === text);
      return mine.length >= 3 && mine;
    }, 'three sends on the fake phone');
    expect(sent).toHaveLength(3);
    expect((await api.get<Broadcast>(`/api/broadcasts/${made.id}`)).status).toBe('completed');
    await context.close();
  });
});
