// The session state machine, the disconnect-code policy, the 463 circuit breaker and the
// events each step emits (checked against the contract's schemas).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gateway, tmpDir, inject, connect, validate, waitFor, FakeApi } from './helpers.js';
import { classifyDisconnect, backoffDelay } from '../src/disconnect.js';

async function withGw(fn) {
  const api = new FakeApi();
  const url = await api.start();
  const gw = await gateway(await tmpDir(), { env: { API_URL: url } });
  try { await fn(gw, api); } finally { await gw.stop(); await api.stop(); }
}
const SEND = { version: 1, text: 'hello', media: null };

test('disconnect table', () => {
  assert.deepEqual(classifyDisconnect(401), { action: 'logged_out', reason: 'logged_out', wipe: true });
  assert.equal(classifyDisconnect(403).reason, 'forbidden');
  assert.equal(classifyDisconnect(403).action, 'logged_out');
  assert.deepEqual(classifyDisconnect(440), { action: 'fail', reason: 'connection_replaced', wipe: false });
  assert.equal(classifyDisconnect(515).action, 'restart');
  assert.equal(classifyDisconnect(408, 'QR refs attempts ended', 'starting').reason, 'qr_timeout');
  assert.equal(classifyDisconnect(408, '', 'qr').reason, 'qr_timeout');
  assert.equal(classifyDisconnect(408, 'timed out', 'connected').action, 'backoff');
  for (const code of [428, 500, 503, undefined]) assert.equal(classifyDisconnect(code).action, 'backoff');
  const delays = Array.from({ length: 30 }, (_, n) => backoffDelay(n));
  assert.ok(delays[0] >= 1400 && delays[0] <= 2600);
  assert.ok(delays.every((d) => d <= 120000 * 1.3), 'capped');
  assert.notEqual(backoffDelay(3, { random: () => 0 }), backoffDelay(3, { random: () => 1 }), 'jitter');
});

test('scan emits session.state events in order, with epoch and seq', () => withGw(async (gw, api) => {
  await connect(gw, '42');
  await waitFor(() => api.of('42', 'session.state').some((e) => e.data.state === 'connected'));
  const states = api.of('42', 'session.state').map((e) => `${e.data.state}:${e.data.reason}`);
  assert.deepEqual(states, ['starting:null', 'qr:null', 'starting:restart_required', 'connected:null']);
  for (const e of api.events) validate('event_envelope', e);
  const seqs = api.events.map((e) => e.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  const epochs = api.of('42', 'session.state').map((e) => e.epoch);
  assert.ok(epochs.at(-1) > epochs[0], 'the 515 restart is a new connection generation');
}));

test('a 401 during the pairing hand-off is retried once; the next 401 logs out', () => withGw(async (gw) => {
  await connect(gw, '42'); // scan -> 515 -> connected, just now
  const opened = gw.driver.opens.get('42');
  gw.driver.disconnect('42', 401);
  await waitFor(() => gw.manager.view('42').state === 'connected' && gw.driver.opens.get('42') === opened + 1, { what: 'retry' });
  await fs.access(path.join(gw.authStore.dir('42'), 'creds.json'));
  gw.driver.disconnect('42', 401);
  await waitFor(() => gw.manager.view('42').state === 'logged_out');
}));

test('401 -> logged_out and auth wiped; no reconnect', () => withGw(async (gw) => {
  await connect(gw, '42');
  gw.manager.current('42').restartedAt = Date.now() - 60000; // long after the pairing
  gw.driver.disconnect('42', 401);
  await waitFor(() => gw.manager.view('42').state === 'logged_out');
  assert.equal(gw.manager.view('42').reason, 'logged_out');
  const opened = gw.driver.opens.get('42');
  await waitFor(async () => { try { await fs.access(gw.authStore.dir('42')); return false; } catch { return true; } }, { what: 'wipe' });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(gw.manager.view('42').state, 'logged_out');
  assert.equal(gw.driver.opens.get('42'), opened, 'no reconnect');
}));

test('403 -> logged_out forbidden; 440 -> failed connection_replaced without a reconnect loop', () => withGw(async (gw) => {
  await connect(gw, '42');
  gw.driver.disconnect('42', 403);
  await waitFor(() => gw.manager.view('42').state === 'logged_out');
  assert.equal(gw.manager.view('42').reason, 'forbidden');
  await connect(gw, '43');
  const opened = gw.driver.opens.get('43');
  gw.driver.disconnect('43', 440);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(gw.manager.view('43').state, 'failed');
  assert.equal(gw.manager.view('43').reason, 'connection_replaced');
  assert.equal(gw.driver.opens.get('43'), opened, 'no new connection was opened');
}));

test('408 while showing a QR -> failed qr_timeout (QR loop stops)', () => withGw(async (gw) => {
  await inject(gw.app, 'POST', '/sessions/42/start');
  await waitFor(() => gw.manager.view('42').state === 'qr');
  gw.driver.disconnect('42', 408, 'QR refs attempts ended');
  await waitFor(() => gw.manager.view('42').state === 'failed');
  assert.equal(gw.manager.view('42').reason, 'qr_timeout');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(gw.manager.view('42').state, 'failed');
  const r = await inject(gw.app, 'POST', '/sessions/42/start');
  assert.equal(r.body.state, 'starting', 'the operator can start again');
}));

test('other codes reconnect with backoff and come back connected (creds kept)', () => withGw(async (gw) => {
  await connect(gw, '42');
  const epoch = gw.manager.current('42').epoch;
  gw.driver.disconnect('42', 428, 'Connection Closed');
  assert.equal(gw.manager.view('42').state, 'starting');
  assert.equal(gw.manager.view('42').reason, 'connection_lost');
  await waitFor(() => gw.manager.view('42').state === 'connected', { what: 'reconnect' });
  assert.ok(gw.manager.current('42').epoch > epoch);
  gw.driver.disconnect('42', 408, 'timed out');
  await waitFor(() => gw.manager.view('42').state === 'connected', { what: 'reconnect after 408' });
}));

test('inbound messages (phone and LID) and status updates become events', () => withGw(async (gw, api) => {
  await connect(gw, '42');
  gw.driver.inbound('42', { from_phone: '+15557654321', text: 'Can I book?', push_name: 'Ana' });
  gw.driver.inbound('42', { from_lid: '98765@lid', text: '', media: { mime: 'image/jpeg', caption: 'x-ray' } });
  gw.driver.status('42', { message_id: 'M1', status: 'delivered' });
  await waitFor(() => api.of('42', 'message.status').length === 1);
  const inbound = api.of('42', 'message.inbound');
  assert.equal(inbound.length, 2);
  assert.equal(inbound[0].data.from_phone, '+15557654321');
  assert.equal(inbound[1].data.from_phone, null);
  assert.equal(inbound[1].data.from_lid, '98765@lid');
  for (const e of api.events) validate('event_envelope', e);
}));

test('463 on a send opens the circuit: 423 with until, session.limited once, known contacts still served', () => withGw(async (gw, api) => {
  await connect(gw, '42');
  gw.driver.inbound('42', { from_phone: '+15550001111', text: 'hi' }); // a known contact
  await waitFor(() => api.of('42', 'message.inbound').length === 1);
  const until = new Date(Date.now() + 3600e3).toISOString();
  gw.driver.limit('42', until, 'send');
  let r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...SEND, to: '+15552220000', idempotency_key: 'a' } });
  assert.equal(r.status, 423);
  assert.equal(r.body.error, 'reach_out_limited');
  assert.equal(r.body.until, until);
  validate('error', r.body);
  const sentBefore = (gw.driver.sent.get('42') || []).length;
  r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...SEND, to: '+15553330000', idempotency_key: 'b' } });
  assert.equal(r.status, 423, 'new contacts paused without asking WhatsApp');
  assert.equal((gw.driver.sent.get('42') || []).length, sentBefore);
  r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...SEND, to: '+15550001111', idempotency_key: 'c' } });
  assert.equal(r.status, 200, 'a known contact is still served');
  await waitFor(() => api.of('42', 'session.limited').length === 1);
  const limited = api.of('42', 'session.limited');
  assert.deepEqual(limited[0].data, { until, reason: 'reach_out_limited' });
  validate('event_envelope', limited[0]);
  // other businesses are not affected
  await connect(gw, '43');
  r = await inject(gw.app, 'POST', '/sessions/43/messages', { body: { ...SEND, to: '+15553330000', idempotency_key: 'b' } });
  assert.equal(r.status, 200);
}));

test('463 circuit closes after until; a time-lock announced by WhatsApp opens it too', () => withGw(async (gw, api) => {
  await connect(gw, '42');
  gw.driver.limit('42', new Date(Date.now() + 300).toISOString(), 'event');
  await waitFor(() => api.of('42', 'session.limited').length === 1);
  let r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...SEND, to: '+15552220000', idempotency_key: 'a' } });
  assert.equal(r.status, 423);
  await new Promise((res) => setTimeout(res, 350));
  r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...SEND, to: '+15552220000', idempotency_key: 'a' } });
  assert.equal(r.status, 200);
}));

test('a corrupt auth state fails only that session (auth_state_corrupt)', () => withGw(async (gw) => {
  await connect(gw, '42');
  await gw.driver.corrupt(gw.authStore, '43');
  const r = await inject(gw.app, 'POST', '/sessions/43/start');
  assert.equal(r.body.state, 'failed');
  assert.equal(r.body.reason, 'auth_state_corrupt');
  assert.equal(gw.manager.view('42').state, 'connected');
  const s = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...SEND, to: '+15552220000', idempotency_key: 'z' } });
  assert.equal(s.status, 200);
  assert.ok((await fs.readFile(path.join(gw.authStore.dir('43'), 'creds.json'), 'utf8')).length > 0, 'the file is kept for inspection');
}));

test('inbound messages arriving while the shard drains are queued on the volume, not dropped', async () => {
  const dir = await tmpDir();
  const gw = await gateway(dir, { env: { WA_DRAIN_SECONDS: '1' } }); // API unreachable: the flush times out
  await connect(gw, '42');
  const stopping = gw.stop();
  await waitFor(() => gw.app.gateway.draining);
  gw.driver.inbound('42', { from_phone: '+15557654321', text: 'during drain' });
  await stopping;
  const files = await fs.readdir(path.join(dir, 'events'));
  const texts = await Promise.all(files.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, 'events', f), 'utf8'))));
  assert.ok(texts.some((e) => e.type === 'message.inbound' && e.data.text === 'during drain'));
  assert.equal(gw.driver.live.get('42').ended, true, 'sockets closed at the end');
});
