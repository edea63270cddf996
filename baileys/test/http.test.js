// The HTTP API of the contract, end to end in-process with the fake driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gateway, tmpDir, inject, connect, validate, waitFor, H, SECRET } from './helpers.js';
import { secretMatches } from '../src/app.js';

async function withGw(fn, env = {}) {
  const gw = await gateway(await tmpDir(), { env });
  try { await fn(gw); } finally { await gw.stop(); }
}

test('GET /health needs no secret and matches the schema', () => withGw(async (gw) => {
  const r = await inject(gw.app, 'GET', '/health', { headers: {} });
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
  assert.equal(r.body.driver, 'fake');
  validate('health', r.body);
}));

test('missing or wrong X-Internal-Secret -> 401 unauthorized', () => withGw(async (gw) => {
  for (const headers of [{ 'x-whatsapp-shard': '1' }, { 'x-internal-secret': 'nope', 'x-whatsapp-shard': '1' },
    { 'x-internal-secret': `${SECRET}x`, 'x-whatsapp-shard': '1' }]) {
    const r = await inject(gw.app, 'GET', '/sessions/42', { headers });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'unauthorized');
  }
  assert.equal(secretMatches('abc', 'abc'), true);
  assert.equal(secretMatches('abc', 'abd'), false);
  assert.equal(secretMatches('abc', undefined), false);
}));

test('X-WhatsApp-Shard for another shard -> 421 wrong_shard and nothing is done', () => withGw(async (gw) => {
  const r = await inject(gw.app, 'POST', '/sessions/42/start', { headers: { ...H, 'x-whatsapp-shard': '2' } });
  assert.equal(r.status, 421);
  assert.deepEqual({ error: r.body.error, shard_id: r.body.shard_id, requested: r.body.requested }, { error: 'wrong_shard', shard_id: 1, requested: 2 });
  validate('error', r.body);
  assert.equal(gw.manager.view('42').state, 'stopped');
  assert.equal(gw.driver.live.size, 0);
  const missing = await inject(gw.app, 'GET', '/sessions/42', { headers: { 'x-internal-secret': SECRET } });
  assert.equal(missing.status, 400);
}));

test('unknown business is stopped; start -> qr -> scan -> connected; start again is idempotent', () => withGw(async (gw) => {
  let r = await inject(gw.app, 'GET', '/sessions/42');
  assert.equal(r.status, 200);
  assert.equal(r.body.state, 'stopped');
  validate('session', r.body);
  assert.equal((await inject(gw.app, 'GET', '/sessions/42/qr')).status, 404);
  r = await inject(gw.app, 'POST', '/sessions/42/start');
  validate('session', r.body);
  await waitFor(() => gw.manager.view('42').state === 'qr');
  r = await inject(gw.app, 'GET', '/sessions/42/qr');
  assert.equal(r.status, 200);
  validate('qr', r.body);
  assert.match(r.body.qr, /^fake-qr:42:/);
  assert.equal((await inject(gw.app, 'GET', '/sessions/42')).body.qr, r.body.qr);
  await gw.driver.scan('42', { phone: '+15551230000', lid: '999@lid' });
  await waitFor(() => gw.manager.view('42').state === 'connected');
  r = await inject(gw.app, 'POST', '/sessions/42/start');
  assert.equal(r.body.state, 'connected');
  assert.deepEqual(r.body.me, { phone: '+15551230000', lid: '999@lid' });
  assert.equal(gw.driver.live.size, 1, 'a second start opened no second connection');
  validate('session', r.body);
  const q = await inject(gw.app, 'GET', '/sessions/42/qr');
  assert.equal(q.status, 404);
  assert.equal(q.body.error, 'no_qr');
}));

test('send: 409 when not connected, 200 then duplicate by idempotency_key (sent once)', () => withGw(async (gw) => {
  const body = { version: 1, to: '+15557654321', text: 'hi', media: null, idempotency_key: 'k1' };
  let r = await inject(gw.app, 'POST', '/sessions/42/messages', { body });
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'not_connected');
  await connect(gw, '42');
  r = await inject(gw.app, 'POST', '/sessions/42/messages', { body });
  assert.equal(r.status, 200);
  validate('send_response', r.body);
  assert.equal(r.body.duplicate, false);
  const again = await inject(gw.app, 'POST', '/sessions/42/messages', { body });
  assert.deepEqual(again.body, { message_id: r.body.message_id, status: 'sent', duplicate: true });
  const [a, b] = await Promise.all([1, 2].map(() => inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...body, idempotency_key: 'k2' } })));
  assert.equal(a.body.message_id, b.body.message_id);
  assert.deepEqual([a.body.duplicate, b.body.duplicate].sort(), [false, true]);
  assert.equal(gw.driver.sent.get('42').length, 2);
  // the same key for another business is another message
  await connect(gw, '43');
  r = await inject(gw.app, 'POST', '/sessions/43/messages', { body });
  assert.equal(r.body.duplicate, false);
}));

test('send errors: 400 schema, 422 invalid_number, 503 send_failed (then retry works)', () => withGw(async (gw) => {
  await connect(gw, '42');
  const base = { version: 1, to: '+15557654321', text: 'hi', idempotency_key: 'k' };
  for (const bad of [{ ...base, to: '5557654321' }, { ...base, idempotency_key: 'x'.repeat(161) }, { ...base, extra: 1 },
    { ...base, version: 2 }, { ...base, media: { url: 'http://insecure', mime: 'image/jpeg' } }]) {
    const r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.body.error, 'bad_request');
  }
  let r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { ...base, to: '+9995551234' } });
  assert.equal(r.status, 422);
  assert.equal(r.body.error, 'invalid_number');
  gw.driver.failNext('42', 'send_failed');
  r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: base });
  assert.equal(r.status, 503);
  assert.equal(r.body.error, 'send_failed');
  r = await inject(gw.app, 'POST', '/sessions/42/messages', { body: base });
  assert.equal(r.status, 200);
  assert.equal(r.body.duplicate, false, 'a failed send does not burn the idempotency key');
}));

test('read receipts -> 204 and reach the driver', () => withGw(async (gw) => {
  await connect(gw, '42');
  const r = await gw.app.inject({ method: 'POST', url: '/sessions/42/read', headers: H,
    payload: { version: 1, chat: '+15557654321', message_ids: ['A1', 'A2'] } });
  assert.equal(r.statusCode, 204);
  assert.deepEqual(gw.driver.reads.get('42'), [{ chat: '+15557654321', message_ids: ['A1', 'A2'] }]);
}));

test('logout -> logged_out and the auth state is deleted (next start needs a QR)', () => withGw(async (gw) => {
  await connect(gw, '42');
  const dir = gw.authStore.dir('42');
  await fs.access(path.join(dir, 'creds.json'));
  const r = await inject(gw.app, 'POST', '/sessions/42/logout');
  assert.equal(r.status, 200);
  assert.equal(r.body.state, 'logged_out');
  validate('session', r.body);
  await assert.rejects(fs.access(dir));
  await inject(gw.app, 'POST', '/sessions/42/start');
  await waitFor(() => gw.manager.view('42').state === 'qr');
}));

test('fake control routes need the secret and script the driver', () => withGw(async (gw) => {
  await inject(gw.app, 'POST', '/sessions/42/start');
  await waitFor(() => gw.manager.view('42').state === 'qr');
  assert.equal((await inject(gw.app, 'POST', '/fake/42/scan', { headers: {}, body: {} })).status, 401);
  assert.equal((await inject(gw.app, 'POST', '/fake/42/scan', { body: { phone: '+15551230000' } })).status, 200);
  await waitFor(() => gw.manager.view('42').state === 'connected');
  assert.equal((await inject(gw.app, 'POST', '/fake/42/disconnect', { body: { code: 440 } })).status, 200);
  await waitFor(() => gw.manager.view('42').state === 'failed');
  assert.equal(gw.manager.view('42').reason, 'connection_replaced');
  assert.equal((await inject(gw.app, 'POST', '/fake/77/inbound', { body: {} })).status, 409);
}));

test('the fake control routes do not exist with the baileys driver', async () => {
  const { buildApp } = await import('../src/app.js');
  const { settingsFor } = await import('./helpers.js');
  const settings = settingsFor(await tmpDir());
  const app = buildApp({ settings, manager: { counts: () => ({}) }, events: { pending: 0 }, driver: { name: 'baileys' } });
  const r = await app.inject({ method: 'POST', url: '/fake/42/scan', headers: H, payload: {} });
  assert.equal(r.statusCode, 404);
  await app.close();
});

test('bad JSON and prototype-poisoning bodies are 400 bad_request; an empty JSON body on start is fine', () => withGw(async (gw) => {
  for (const payload of ['{"version":', '{"__proto__":{"x":1},"version":1}']) {
    const r = await gw.app.inject({ method: 'POST', url: '/sessions/42/messages', headers: { ...H, 'content-type': 'application/json' }, payload });
    assert.equal(r.statusCode, 400, payload);
    assert.equal(JSON.parse(r.body).error, 'bad_request');
  }
  const r = await gw.app.inject({ method: 'POST', url: '/sessions/42/start', headers: { ...H, 'content-type': 'application/json' }, payload: '' });
  assert.equal(r.statusCode, 200);
}));

test('concurrent starts open one connection', () => withGw(async (gw) => {
  const answers = await Promise.all(Array.from({ length: 5 }, () => inject(gw.app, 'POST', '/sessions/42/start')));
  assert.ok(answers.every((r) => r.status === 200));
  await waitFor(() => gw.manager.view('42').state === 'qr');
  assert.equal(gw.driver.opens.get('42'), 1);
  assert.equal(gw.manager.current('42').epoch, 1);
}));

test('GET /fake/{id}/sent lists what the fake sent and the read receipts', () => withGw(async (gw) => {
  await connect(gw, '42');
  const media = { url: 'https://cdn.example.com/a.jpg', path: null, mime: 'image/jpeg', caption: 'c' };
  const s = await inject(gw.app, 'POST', '/sessions/42/messages', { body: { version: 1, to: '+15557654321', text: '', media, idempotency_key: 'm' } });
  assert.equal(s.status, 200);
  const r = await inject(gw.app, 'GET', '/fake/42/sent');
  assert.deepEqual(r.body, { sent: [{ to: '+15557654321', text: '', media, messageId: s.body.message_id }], reads: [] });
}));
