// The durable event queue: signed POSTs, order per business, retries while the API is down or
// answers 5xx, 400/401 to the dead letter, nothing lost across an API outage or a gateway restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { EventQueue, signBody } from '../src/event-queue.js';
import { tmpDir, waitFor, FakeApi, SECRET, validate } from './helpers.js';

const log = pino({ level: 'silent' });
const queue = (dataDir, apiUrl) => new EventQueue({ dataDir, shardId: 1, apiUrl, secret: SECRET, log, baseDelayMs: 10, maxDelayMs: 100 });
const status = (i) => ({ message_id: `M${i}`, status: 'delivered', error: null });

test('the signature is the scheme of contracts/webhook_signature.py', () => {
  const body = Buffer.from('{"a":1}');
  const hex = signBody('k', 1796000000, body);
  const py = execFileSync('python3', ['-c', `import hmac,hashlib;print(hmac.new(b"k", b"1796000000." + b'{"a":1}', hashlib.sha256).hexdigest())`], { encoding: 'utf8' }).trim();
  assert.equal(hex, py);
});

test('API stopped mid-stream and restarted: 0 lost, 0 duplicated, order kept per business', async () => {
  const api = new FakeApi();
  const url = await api.start();
  const q = queue(await tmpDir(), url);
  await q.open();
  const sent = [];
  for (let i = 0; i < 30; i += 1) sent.push(await q.enqueue(i % 2 ? '42' : '43', 'message.status', status(i), 1));
  await waitFor(() => api.events.length >= 5, { what: 'first events' });
  const port = api.port;
  await api.stop();
  for (let i = 30; i < 60; i += 1) sent.push(await q.enqueue(i % 2 ? '42' : '43', 'message.status', status(i), 1));
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(q.pending > 0, 'events wait on disk while the API is down');
  await api.start(port);
  await waitFor(() => q.pending === 0, { what: 'drain' });
  const ids = api.events.map((e) => e.event_id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(new Set(ids), new Set(sent.map((e) => e.event_id)), '0 lost');
  for (const b of ['42', '43']) {
    const seqs = api.of(b).map((e) => e.seq);
    assert.deepEqual(seqs, sent.filter((e) => e.business_id === b).map((e) => e.seq), `order of ${b}`);
  }
  for (const e of api.events) validate('event_envelope', e);
  q.close();
  await api.stop();
});

test('5xx is retried; 400 and 401 go to the dead letter and the lane moves on', async () => {
  const api = new FakeApi();
  const url = await api.start();
  const dir = await tmpDir();
  const q = queue(dir, url);
  await q.open();
  let fails = 3;
  api.respond = (e) => {
    if (e.data.message_id === 'M0' && fails > 0) { fails -= 1; return 503; }
    if (e.data.message_id === 'M1') return 400;
    return 200;
  };
  for (let i = 0; i < 4; i += 1) await q.enqueue('42', 'message.status', status(i), 1);
  await waitFor(() => q.pending === 0, { what: 'drain' });
  assert.deepEqual(api.events.map((e) => e.data.message_id), ['M0', 'M2', 'M3']);
  const dead = (await fs.readFile(path.join(dir, 'dead-letter.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(dead.length, 1);
  assert.equal(dead[0].event.data.message_id, 'M1');
  assert.equal(dead[0].why, 'http 400');
  // a wrong secret is a 401: dead-lettered, not retried forever
  const bad = new EventQueue({ dataDir: dir, shardId: 1, apiUrl: url, secret: 'wrong', log, baseDelayMs: 10 });
  await bad.open();
  await bad.enqueue('42', 'message.status', status(9), 1);
  await waitFor(() => bad.pending === 0, { what: 'dead letter 401' });
  assert.match(await fs.readFile(path.join(dir, 'dead-letter.jsonl'), 'utf8'), /http 401/);
  q.close(); bad.close();
  await api.stop();
});

test('a gateway restart delivers what was queued before it, seq keeps increasing', async () => {
  const dir = await tmpDir();
  const down = queue(dir, 'http://127.0.0.1:9');
  await down.open();
  const before = [];
  for (let i = 0; i < 5; i += 1) before.push(await down.enqueue('42', 'message.status', status(i), 1));
  down.close();
  const api = new FakeApi();
  const url = await api.start();
  const q = queue(dir, url);
  await q.open();
  const after = await q.enqueue('42', 'message.status', status(5), 2);
  await waitFor(() => q.pending === 0, { what: 'drain after restart' });
  assert.deepEqual(api.events.map((e) => e.event_id), [...before, after].map((e) => e.event_id));
  assert.equal(after.seq, 6);
  assert.equal((await fs.readdir(path.join(dir, 'events'))).length, 0, 'delivered files are removed');
  q.close();
  await api.stop();
});

test('flush waits for delivery (bounded)', async () => {
  const q = queue(await tmpDir(), 'http://127.0.0.1:9');
  await q.open();
  await q.enqueue('42', 'message.status', status(0), 1);
  const t = Date.now();
  assert.equal(await q.flush(200), false);
  assert.ok(Date.now() - t < 1000);
  q.close();
});
