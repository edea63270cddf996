// Real processes: `node src/server.js` on the fake driver is stopped with SIGTERM (drains:
// /health 503, exit 0) and started again on the same volume: sessions come back connected
// without a QR scan, staggered; a corrupt auth file fails only its own session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { tmpDir, waitFor, FakeApi, SECRET } from './helpers.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/server.js');
const H = { 'x-internal-secret': SECRET, 'x-whatsapp-shard': '1', 'content-type': 'application/json' };

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function startServer(env) {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH, NODE_ENV: 'development', WA_DRIVER: 'fake',
    INTERNAL_SECRET: SECRET, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  child.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return child;
}

async function call(base, method, url, body) {
  const res = await fetch(`${base}${url}`, { method, headers: H, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const state = async (base, id) => (await call(base, 'GET', `/sessions/${id}`)).body;

test('SIGTERM drains and exits 0; a restart restores sessions without a QR; corrupt auth fails alone', async () => {
  const api = new FakeApi();
  const apiUrl = await api.start();
  const dataDir = await tmpDir();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { BAILEYS_PORT: String(port), BAILEYS_DATA_DIR: dataDir, API_URL: apiUrl, WA_RESTORE_STAGGER_MS: '150', WA_DRAIN_SECONDS: '2' };
  let child = startServer(env);
  try {
    await waitFor(async () => { try { return (await fetch(`${base}/health`)).ok; } catch { return false; } }, { what: 'server up' });
    for (const id of ['42', '43', '44']) {
      await call(base, 'POST', `/sessions/${id}/start`);
      await waitFor(async () => (await state(base, id)).state === 'qr', { what: `qr ${id}` });
      assert.equal((await call(base, 'POST', `/fake/${id}/scan`, { phone: `+1555123${id}00` })).status, 200);
      await waitFor(async () => (await state(base, id)).state === 'connected', { what: `connected ${id}` });
    }
    const sent = await call(base, 'POST', '/sessions/42/messages', { version: 1, to: '+15557654321', text: 'hi', idempotency_key: 'once' });
    assert.equal(sent.status, 200);
    await waitFor(() => api.of('44', 'session.state').some((e) => e.data.state === 'connected'), { what: 'events delivered' });

    // SIGTERM while the API is down: /health answers 503 draining during the bounded flush, then exit 0
    await api.stop();
    await call(base, 'POST', '/fake/42/inbound', { from_phone: '+15557654321', text: 'queued during outage' });
    child.kill('SIGTERM');
    const draining = await waitFor(async () => {
      try { const r = await fetch(`${base}/health`); return r.status === 503 ? r.json() : false; } catch { return false; }
    }, { what: 'draining health' });
    assert.equal(draining.status, 'draining');
    const refused = await call(base, 'POST', '/sessions/42/messages', { version: 1, to: '+15557654321', text: 'x', idempotency_key: 'late' });
    assert.equal(refused.status, 503);
    assert.equal(await child.exited, 0, child.output);

    // corrupt 43's creds, restart: 42 and 44 come back connected with no scan, 43 failed
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(dataDir, 'auth', '43', 'creds.json'), '{"fake_me":'));
    await api.start(api.port);
    child = startServer(env);
    const t0 = Date.now();
    await waitFor(async () => {
      try { return (await state(base, '44')).state === 'connected'; } catch { return false; }
    }, { what: 'restored', timeoutMs: 8000 });
    assert.ok(Date.now() - t0 >= 250, 'restores are staggered');
    assert.equal((await state(base, '42')).state, 'connected');
    assert.deepEqual((await state(base, '42')).me, { phone: '+15551234200', lid: null });
    const s43 = await state(base, '43');
    assert.deepEqual([s43.state, s43.reason], ['failed', 'auth_state_corrupt']);
    // the idempotency key survived the restart
    const again = await call(base, 'POST', '/sessions/42/messages', { version: 1, to: '+15557654321', text: 'hi', idempotency_key: 'once' });
    assert.deepEqual(again.body, { message_id: sent.body.message_id, status: 'sent', duplicate: true });
    // the event queued during the outage arrives after the restart
    await waitFor(() => api.of('42', 'message.inbound').some((e) => e.data.text === 'queued during outage'), { what: 'outage event' });
    const health = await (await fetch(`${base}/health`)).json();
    assert.equal(health.sessions.connected, 2);
    assert.equal(health.sessions.failed, 1);
    const seqs = api.events.map((e) => e.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'seq never reused across the restart');
  } finally {
    child.kill('SIGTERM');
    await child.exited;
    await api.stop().catch(() => {});
  }
});
