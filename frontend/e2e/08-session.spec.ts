// An expired session: the cookie is gone (as when the server ends the session), the next
// action that reaches the API answers 401, the app goes to the login page, and logging in
// again comes back to the same page.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { env, eventually, launch, logIn, newPage } from './support/stack';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser.close();
});

it('sends an expired session to the login page and back to the same page', async () => {
  const { page, context } = await newPage(browser);
  await logIn(page, undefined, '/login?next=%2Fsettings%2Fwhatsapp');
  expect(new URL(page.url()).pathname).toBe('/settings/whatsapp');
  const reconnect = page.getByRole('button', { name: 'Re-connect' });
  await reconnect.waitFor();
  await page.waitForLoadState('networkidle');
  await context.clearCookies();
  await reconnect.click();
  await eventually(async () => Promise.resolve(new URL(page.url()).pathname === '/login'), 'the login page');
  expect(new URL(page.url()).searchParams.get('next')).toBe('/settings/whatsapp');
  await page.getByLabel('Email').fill(env.owner.email);
  await page.getByLabel('Password').fill(env.owner.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await eventually(async () => Promise.resolve(new URL(page.url()).pathname === '/settings/whatsapp'), 'the page it was on');
  await page.getByRole('heading', { name: 'WhatsApp' }).first().waitFor();
  await context.close();
});
