// What the end-to-end specs share: the stack's addresses and accounts (environment, set by
// tests/e2e/test_spa.py), a headless Chromium per spec file, logging in, full-page screenshots,
// the API and the fake WhatsApp phone from Node, and replaying a recorded caller.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`e2e: ${name} is not set (tests/e2e/test_spa.py starts the stack and sets it)`);
  return value;
}

export const env = {
  baseUrl: required('E2E_BASE_URL'), // BASE_URL, renamed by vitest.e2e.config.ts
  apiUrl: required('API_URL'),
  gatewayUrl: required('GATEWAY_URL'),
  internalSecret: required('INTERNAL_SECRET'),
  owner: { email: required('OWNER_EMAIL'), password: required('OWNER_PASSWORD') },
  admin: { email: required('ADMIN_EMAIL'), password: required('ADMIN_PASSWORD') },
  replayCall: JSON.parse(required('REPLAY_CALL')) as string[],
  rootDir: required('ROOT_DIR'),
  chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
  screenshotDir: process.env.SCREENSHOT_DIR ?? join(import.meta.dirname, 'screenshots'),
  // The sessions the specs reuse (the API allows 20 logins per address in 5 minutes): one stack's.
  stateDir: process.env.E2E_STATE_DIR ?? join(tmpdir(), `prosaas-e2e-${new URL(required('E2E_BASE_URL')).port}`),
};

type Account = { email: string; password: string };

export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 360, height: 780 };

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: env.chromium, headless: true, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
}

/** A logged-in browser state for `who`: made once per stack through the login form, then reused. */
async function storageState(browser: Browser, who: Account): Promise<string> {
  const path = join(env.stateDir, `browser-${who.email}.json`);
  if (!existsSync(path)) {
    mkdirSync(env.stateDir, { recursive: true });
    const { context, page } = await newPage(browser);
    await logIn(page, who);
    await context.storageState({ path });
    await context.close();
  }
  return path;
}

/** A page in a fresh browser context; `as`: already logged in as that account (no login form). */
export async function newPage(browser: Browser, viewport = DESKTOP, as?: Account): Promise<{ context: BrowserContext; page: Page }> {
  const state = as ? await storageState(browser, as) : undefined;
  const context = await browser.newContext({ baseURL: env.baseUrl, viewport, ...(state ? { storageState: state } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

/** The login form, filled and sent; waits until the app left the login page. */
export async function logIn(page: Page, who: Account = env.owner, path = '/login'): Promise<void> {
  await page.goto(path);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

/** A full-page PNG named `name` in SCREENSHOT_DIR, once the page's spinners are gone. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(env.screenshotDir, { recursive: true });
  await page.waitForLoadState('networkidle').catch(() => undefined);
  const path = join(env.screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A logged-in client of the API itself (Node's fetch, its own session): set up and check data. */
export class ApiClient {
  private cookie = '';
  private csrf = '';

  /** Logged in as `who`: once per stack, then the same session (kept in E2E_STATE_DIR). */
  static async logIn(who: Account = env.owner): Promise<ApiClient> {
    const client = new ApiClient();
    const saved = join(env.stateDir, `api-${who.email}.json`);
    if (existsSync(saved)) {
      Object.assign(client, JSON.parse(readFileSync(saved, 'utf8')) as { cookie: string; csrf: string });
      return client;
    }
    const resp = await fetch(`${env.apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(who),
    });
    if (resp.status !== 200) throw new Error(`e2e: API login as ${who.email}: ${resp.status} ${await resp.text()}`);
    client.cookie = (resp.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    client.csrf = ((await resp.json()) as { csrf_token: string }).csrf_token;
    mkdirSync(env.stateDir, { recursive: true });
    writeFileSync(saved, JSON.stringify({ cookie: client.cookie, csrf: client.csrf }));
    return client;
  }

  async request<T>(method: string, path: string, body?: unknown, expect = [200, 201]): Promise<T> {
    const resp = await fetch(`${env.apiUrl}${path}`, {
      method,
      headers: { Cookie: this.cookie, 'X-CSRF-Token': this.csrf, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    if (!expect.includes(resp.status)) throw new Error(`e2e: ${method} ${path}: ${resp.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
}

/** The fake driver's control routes on the WhatsApp gateway (baileys/src/fake-routes.js). */
export async function fakePhone<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const resp = await fetch(`${env.gatewayUrl}${path}`, {
    method,
    headers: { 'X-Internal-Secret': env.internalSecret, 'X-WhatsApp-Shard': '1', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  if (resp.status !== 200) throw new Error(`e2e: gateway ${method} ${path}: ${resp.status} ${text}`);
  return JSON.parse(text) as T;
}

export type Replay = { done: Promise<{ code: number | null; output: string }> };

/** One recorded caller dials the demo number through a signed webhook (python -m callengine.loadtest). */
export function replayCall(): Replay {
  const [command, ...args] = env.replayCall;
  if (!command) throw new Error('e2e: REPLAY_CALL is empty');
  const child = spawn(command, args, { cwd: env.rootDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, output }))) };
}

/** Poll `check` until it returns a value (not undefined/null/false) or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`e2e: timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
}
