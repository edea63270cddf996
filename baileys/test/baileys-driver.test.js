// The real Baileys driver wired into the session manager, without WhatsApp: the socket is
// pointed at a local WebSocket server that drops every connection (Baileys' waWebSocketUrl).
// What is checked: makeWASocket starts with our auth state, its connection.update close is
// mapped to connection_lost, the manager reconnects with backoff, and nothing is written as
// creds before a pairing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { BaileysDriver } from '../src/drivers/baileys.js';
import { SessionManager } from '../src/session-manager.js';
import { AuthStore } from '../src/auth-store.js';
import { MetaStore } from '../src/meta-store.js';
import { IdempotencyStore } from '../src/idempotency.js';
import { tmpDir, waitFor } from './helpers.js';

test('a Baileys session whose socket is dropped reconnects with backoff (connection_lost)', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  let connections = 0;
  wss.on('connection', (socket) => { connections += 1; socket.terminate(); });
  const dir = await tmpDir();
  const events = [];
  const manager = new SessionManager({
    shardId: 1,
    driver: new BaileysDriver({ socketUrl: `ws://127.0.0.1:${wss.address().port}/ws/chat` }),
    authStore: new AuthStore(dir), metaStore: new MetaStore(dir), idempotency: new IdempotencyStore(dir),
    events: { enqueue: async (b, type, data, epoch) => { events.push({ type, data, epoch }); } },
    log: pino({ level: 'silent' }),
    backoff: { baseMs: 30, capMs: 60 },
  });
  try {
    await manager.start('42');
    await waitFor(() => connections >= 3, { what: 'three connection attempts', timeoutMs: 10000 });
    const reasons = events.filter((e) => e.type === 'session.state').map((e) => `${e.data.state}:${e.data.reason}`);
    assert.equal(reasons[0], 'starting:null');
    assert.ok(reasons.includes('starting:connection_lost'), reasons.join(' '));
    assert.ok(!reasons.some((r) => r.startsWith('failed') || r.startsWith('logged_out')), reasons.join(' '));
    assert.ok(manager.current('42').epoch >= 3, 'each attempt is a new connection generation');
    await assert.rejects(fs.access(`${dir}/auth/42/creds.json`), 'no creds before a pairing');
  } finally {
    await manager.closeAll();
    await new Promise((r) => wss.close(r));
  }
});
