// Leads: the table (desktop and 360 px), a lead's page, and the board: a card dragged to
// another status column keeps its new status after a reload (read back from the API too).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pending } from './support/pending';
import { ApiClient, DESKTOP, env, eventually, launch, newPage, PHONE, screenshot } from './support/stack';

type Lead = { id: number; name: string | null; status: string; phone_e164: string };

let browser: Browser;
let api: ApiClient;
let lead: Lead;
beforeAll(async () => {
  browser = await launch();
  api = await ApiClient.logIn();
  lead = await api.request<Lead>('POST', '/api/leads', { phone_e164: '+15557770001', name: 'Board Mover' });
});
afterAll(async () => {
  await browser.close();
});

describe.skipIf(pending('leads'))('leads', () => {
  it('lists the leads, at desktop width and at 360 px, and opens one', async () => {
    for (const [viewport, name] of [[DESKTOP, 'leads-table'], [PHONE, 'leads-table-360px']] as const) {
      const { page, context } = await newPage(browser, viewport, env.owner);
      await page.goto('/leads');
      await page.getByRole('link', { name: 'Board Mover' }).first().waitFor();
      await screenshot(page, name);
      if (viewport === DESKTOP) {
        await page.getByRole('link', { name: 'Board Mover' }).first().click();
        await page.waitForURL(`**/leads/${lead.id}`);
        await page.getByRole('heading', { name: 'Board Mover' }).waitFor();
        await screenshot(page, 'lead-detail');
      }
      await context.close();
    }
  });

  it('moves a lead on the board by drag and drop, and the move survives a reload', async () => {
    const { page, context } = await newPage(browser, DESKTOP, env.owner);
    await page.goto('/leads/board');
    const card = page.getByRole('button', { name: /Board Mover/ }).or(page.getByText('Board Mover')).first();
    await card.waitFor();
    await screenshot(page, 'leads-board');
    const target = page.getByRole('region', { name: /contacted/i }).or(page.getByRole('list', { name: /contacted/i })).first();
    const from = await card.boundingBox();
    const to = await target.boundingBox();
    if (!from || !to) throw new Error('the card or the "contacted" column is not visible');
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + from.width / 2 + 10, from.y + from.height / 2 + 10, { steps: 5 });
    await page.mouse.move(to.x + to.width / 2, to.y + 60, { steps: 20 });
    await page.mouse.up();
    await eventually(async () => (await api.get<Lead>(`/api/leads/${lead.id}`)).status === 'contacted', 'the new status in the API');
    await page.reload();
    const column = page.getByRole('region', { name: /contacted/i }).or(page.getByRole('list', { name: /contacted/i })).first();
    await column.getByText('Board Mover').first().waitFor();
    expect((await api.get<Lead>(`/api/leads/${lead.id}`)).status).toBe('contacted');
    await context.close();
  });
});
