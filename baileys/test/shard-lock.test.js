// One process per shard volume: a second gateway on the same BAILEYS_DATA_DIR refuses to start,
// a crashed holder's stale lease is taken over, and a holder that lost its lease stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ShardLock, ShardLockHeld } from '../src/shard-lock.js';
import { gateway, tmpDir, waitFor, SECRET } from './helpers.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/server.js');

test('a second gateway on the same volume is refused until the first stops', async () => {
  const dir = await tmpDir();
  const first = await gateway(dir);
  await assert.rejects(gateway(dir), ShardLockHeld);
  const r = spawnSync(process.execPath, [SERVER], { encoding: 'utf8', timeout: 10000, env: { PATH: process.env.PATH, NODE_ENV: 'test',
    WA_DRIVER: 'fake', INTERNAL_SECRET: SECRET, BAILEYS_DATA_DIR: dir, BAILEYS_PORT: '0', LOG_LEVEL: 'info' } });
  assert.equal(r.status, 1);
  assert.match(r.stdout + r.stderr, /another gateway process \(pid \d+/);
  await first.stop();
  const second = await gateway(dir);
  await second.stop();
  await assert.rejects(fs.access(path.join(dir, 'shard.lock')), 'released on shutdown');
});

test('a stale lease (crashed holder) is taken over', async () => {
  const dir = await tmpDir();
  await fs.writeFile(path.join(dir, 'shard.lock'), JSON.stringify({ token: 'dead', pid: 999999, host: 'gone', renewed_at: Date.now() - 60000 }));
  const lock = new ShardLock(dir, { ttlMs: 1000 });
  await lock.acquire();
  assert.equal(JSON.parse(await fs.readFile(path.join(dir, 'shard.lock'), 'utf8')).token, lock.token);
  await lock.release();
});

test('a holder whose lease was taken stops (onLost)', async () => {
  const dir = await tmpDir();
  let lost = null;
  const lock = new ShardLock(dir, { ttlMs: 150, onLost: (held) => { lost = held; } });
  await lock.acquire();
  await fs.writeFile(path.join(dir, 'shard.lock'), JSON.stringify({ token: 'other', pid: 1, host: 'h', renewed_at: Date.now() }));
  await waitFor(() => lost, { what: 'onLost' });
  assert.equal(lost.token, 'other');
  await lock.release();
  assert.equal(JSON.parse(await fs.readFile(path.join(dir, 'shard.lock'), 'utf8')).token, 'other', 'release leaves the new holder alone');
});

test('the lease is renewed while held', async () => {
  const dir = await tmpDir();
  const lock = new ShardLock(dir, { ttlMs: 150 });
  await lock.acquire();
  const t0 = JSON.parse(await fs.readFile(path.join(dir, 'shard.lock'), 'utf8')).renewed_at;
  await waitFor(async () => JSON.parse(await fs.readFile(path.join(dir, 'shard.lock'), 'utf8')).renewed_at > t0, { what: 'renewal' });
  await assert.rejects(new ShardLock(dir, { ttlMs: 150 }).acquire(), ShardLockHeld);
  await lock.release();
});
