// An expired session: the cookie is gone (as when the server ends the session), the next
// action that reaches the API answers 401, the app goes to the login page, and logging in
// again comes back to the same page.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { env, launch, logIn, newPage } from './support/stack';

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
  await context.clearCookies();
  await page.getByRole('button', { name: 'Re-connect' }).click();
  await page.waitForURL((url) => url.pathname === '/login');
  expect(new URL(page.url()).searchParams.get('next')).toBe('/settings/whatsapp');
  await page.getByLabel('Email').fill(env.owner.email);
  await page.getByLabel('Password').fill(env.owner.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => url.pathname === '/settings/whatsapp');
  await page.getByRole('heading', { name: 'WhatsApp' }).first().waitFor();
  await context.close();
});
