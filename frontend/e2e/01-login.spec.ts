// Logging in through the real API: a wrong password says so and stays; the right one lands on
// the dashboard.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { env, launch, logIn, newPage, screenshot } from './support/stack';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser.close();
});

it('shows an error for a wrong password and stays on the login page', async () => {
  const { page, context } = await newPage(browser);
  await page.goto('/login');
  await page.getByLabel('Email').fill(env.owner.email);
  await page.getByLabel('Password').fill(`${env.owner.password}-wrong`);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
  expect(new URL(page.url()).pathname).toBe('/login');
  await screenshot(page, 'login-error');
  await context.close();
});

it('lands on the dashboard with the right password', async () => {
  const { page, context } = await newPage(browser);
  await page.goto('/login');
  await screenshot(page, 'login');
  await logIn(page);
  expect(new URL(page.url()).pathname).toBe('/');
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await context.close();
});
