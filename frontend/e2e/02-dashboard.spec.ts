// The live dashboard: a recorded caller dials the demo business (signed webhook → TwiML →
// stream) and the call appears under "Active calls" within a second of the calls service
// reporting it; the whole call then ends up in the calls list with its lead. A lost event
// stream says "Reconnecting…" and comes back. A 360 px pass too.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pending } from './support/pending';
import { ApiClient, DESKTOP, env, eventually, launch, newPage, PHONE, type Replay, replayCall, screenshot } from './support/stack';

const LATENCY_BUDGET_MS = 1000;

let browser: Browser;
let page: Page;
let replay: Replay | null = null;

beforeAll(async () => {
  browser = await launch();
  ({ page } = await newPage(browser, DESKTOP, env.owner));
  await page.goto('/');
});
afterAll(async () => {
  if (replay) await replay.done;
  await browser.close();
});

const streamBadge = (p: Page, text: string) => p.getByRole('status').filter({ hasText: 'Your receptionist' }).filter({ hasText: text });

type Seen = { rows: { sid: string; at: number }[]; started: { sid: string; ts: number }[] };

describe.skipIf(pending('dashboard'))('a live call', () => {
  it('shows a replayed call live within a second of the calls service reporting it', async () => {
    await streamBadge(page, 'Live').waitFor();
    await page.locator('section[aria-labelledby="live-calls"]').waitFor();
    // In the page: when each live-call row enters the DOM (Date.now(), MutationObserver), and the
    // calls service's own time for each call_started (`ts`, ms since the epoch, in the SSE data).
    await page.evaluate(() => {
      const seen: Seen = { rows: [], started: [] };
      (window as unknown as { __e2e: Seen }).__e2e = seen;
      const section = document.querySelector('section[aria-labelledby="live-calls"]');
      if (!section) throw new Error('no "Active calls" section');
      const known = new Set<string>();
      new MutationObserver(() => {
        const now = Date.now();
        for (const code of section.querySelectorAll('li code')) {
          const sid = code.textContent;
          if (!known.has(sid)) {
            known.add(sid);
            seen.rows.push({ sid, at: now });
          }
        }
      }).observe(section, { childList: true, subtree: true, characterData: true });
      const events = new EventSource('/api/events', { withCredentials: true });
      events.addEventListener('call_started', (event) => {
        const data = JSON.parse(String(event.data)) as { call_sid: string; ts: string };
        seen.started.push({ sid: data.call_sid, ts: Number(data.ts) });
      });
    });

    // The 360 px pass opens now: a page lists the calls that start while it is open.
    const phone = await newPage(browser, PHONE, env.owner);
    await phone.page.goto('/');
    await phone.page.locator('section[aria-labelledby="live-calls"]').waitFor();

    replay = replayCall();
    const { latency, sid } = await eventually(async () => {
      const seen = await page.evaluate(() => (window as unknown as { __e2e: Seen }).__e2e);
      for (const row of seen.rows) {
        const started = seen.started.find((s) => s.sid === row.sid);
        if (started) return { latency: row.at - started.ts, sid: row.sid };
      }
      return null;
    }, 'the replayed call on the dashboard', 30_000);
    console.log(`dashboard live latency: ${latency} ms (call ${sid}, from call_started's ts to the row in the DOM)`);
    expect(latency).toBeGreaterThanOrEqual(0);
    expect(latency).toBeLessThan(LATENCY_BUDGET_MS);
    await screenshot(page, 'dashboard-live-call');

    await phone.page.getByText(sid).waitFor();
    await screenshot(phone.page, 'dashboard-360px');
    await phone.context.close();
  });

  it('lists the finished call with its lead', async () => {
    if (!replay) throw new Error('no replayed call');
    const { code, output } = await replay.done;
    expect(code, output).toBe(0);
    const api = await ApiClient.logIn();
    const call = await eventually(async () => {
      const { items } = await api.get<{ items: { id: number; status: string; lead_id: number | null }[] }>('/api/calls?per_page=5');
      return items.find((c) => c.status === 'completed' && c.lead_id !== null);
    }, 'the completed call with a lead in GET /api/calls', 60_000);
    expect(call.lead_id).not.toBeNull();
    // Back on the dashboard the call has left "Active calls".
    await eventually(async () => (await page.locator('section[aria-labelledby="live-calls"] li code').count()) === 0, 'the call to end on the dashboard');
  });
});

it('says "Reconnecting…" when the event stream is lost, and recovers', async () => {
  // A fresh page whose first stream opens and then ends (the server's connection lost); the
  // retries fail until the stream is let through again.
  const { page: fresh, context } = await newPage(browser, DESKTOP, env.owner);
  await fresh.close();
  const lost = await context.newPage();
  let blocked = true;
  let first = true;
  await lost.route('**/api/events', async (route) => {
    if (!blocked) return route.continue();
    if (first) {
      first = false;
      return route.fulfill({ status: 200, contentType: 'text/event-stream', body: ': opened, then lost\n\n' });
    }
    return route.abort('connectionreset');
  });
  await lost.goto('/');
  await streamBadge(lost, 'Reconnecting').waitFor({ timeout: 20_000 });
  await screenshot(lost, 'dashboard-reconnecting');
  blocked = false;
  await streamBadge(lost, 'Live').waitFor({ timeout: 60_000 });
  await context.close();
});
