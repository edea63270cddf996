// The calls list and a call's page: the replayed call (02-dashboard) is listed with its lead,
// and its recording plays (the <audio> element's currentTime advances; the server answers the
// browser's Range request with 206).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pending } from './support/pending';
import { ApiClient, DESKTOP, env, eventually, launch, newPage, replayCall, screenshot } from './support/stack';

type Call = { id: number; lead_id: number | null; status: string; call_sid: string; has_recording?: boolean };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser.close();
});

describe.skipIf(pending('calls'))('calls', () => {
  it('lists the replayed call with its lead, and plays its recording', async () => {
    const api = await ApiClient.logIn();
    const finished = async () => {
      const { items } = await api.get<{ items: Call[] }>('/api/calls?per_page=5');
      return items.find((c) => c.status === 'completed' && c.lead_id !== null);
    };
    let call = await finished();
    if (!call) {
      // 02-dashboard's replayed call, unless it did not run: then one of our own.
      const { code, output } = await replayCall().done;
      expect(code, output).toBe(0);
      call = await eventually(finished, 'the completed call with a lead in GET /api/calls', 60_000);
    }
    const lead = await api.get<{ id: number; name: string | null; phone_e164: string }>(`/api/leads/${call.lead_id}`);

    const { page, context } = await newPage(browser, DESKTOP, env.owner);
    await page.goto('/calls');
    expect(new URL(page.url()).pathname).toBe('/calls');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: lead.name || lead.phone_e164 }) });
    await row.first().waitFor();
    await screenshot(page, 'calls-list');

    const ranges: number[] = [];
    page.on('response', (resp) => {
      if (resp.url().includes(`/api/calls/${call.id}/recording`)) ranges.push(resp.status());
    });
    await page.goto(`/calls/${call.id}`);
    const audio = page.locator('audio');
    await audio.waitFor({ state: 'attached' });
    await audio.evaluate((el: HTMLAudioElement) => el.play());
    await eventually(() => audio.evaluate((el: HTMLAudioElement) => el.currentTime > 0.5), 'the recording to play', 15_000);
    expect(ranges).toContain(206);
    await screenshot(page, 'call-detail');
    await context.close();
  });
});
