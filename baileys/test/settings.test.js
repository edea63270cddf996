import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSettings, SettingsError } from '../src/settings.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/server.js');

test('defaults follow the contract', () => {
  const s = readSettings({ NODE_ENV: 'development' });
  assert.equal(s.port, 3300);
  assert.equal(s.shardId, 1);
  assert.equal(s.driver, 'baileys');
  assert.equal(s.apiUrl, 'http://prosaas-api:5000');
  assert.ok(s.dataDir.endsWith(path.join('var', 'baileys', 'shard-1')));
});

test('every bad variable is listed in one error', () => {
  assert.throws(() => readSettings({ NODE_ENV: 'production', BAILEYS_PORT: 'abc', BAILEYS_SHARD_ID: '3', BAILEYS_NUM_SHARDS: '2',
    WA_DRIVER: 'fake', API_URL: 'ftp://x', LOG_LEVEL: 'loud' }), (err) => {
    assert.ok(err instanceof SettingsError);
    const text = err.message;
    for (const name of ['BAILEYS_PORT', 'BAILEYS_SHARD_ID', 'INTERNAL_SECRET', 'WA_DRIVER=fake is refused', 'API_URL', 'LOG_LEVEL']) {
      assert.ok(text.includes(name), `${name} missing from: ${text}`);
    }
    assert.equal(err.problems.length, 6);
    return true;
  });
});

test('the fake driver is refused in production, accepted in development', () => {
  assert.throws(() => readSettings({ NODE_ENV: 'production', INTERNAL_SECRET: 'x'.repeat(32), WA_DRIVER: 'fake' }), /refused/);
  assert.equal(readSettings({ NODE_ENV: 'development', WA_DRIVER: 'fake' }).driver, 'fake');
});

test('the server exits 2 with the list on bad settings', () => {
  const r = spawnSync(process.execPath, [SERVER], { env: { PATH: process.env.PATH, NODE_ENV: 'production', BAILEYS_PORT: '99999', WA_DRIVER: 'x' }, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /BAILEYS_PORT/);
  assert.match(r.stderr, /INTERNAL_SECRET/);
  assert.match(r.stderr, /WA_DRIVER/);
});

test('WA_WEB_VERSION is an optional version triple', async () => {
  assert.equal(readSettings({ NODE_ENV: 'test' }).waWebVersion, null);
  assert.deepEqual(readSettings({ NODE_ENV: 'test', WA_WEB_VERSION: '2.3000.1035194821' }).waWebVersion, [2, 3000, 1035194821]);
  assert.throws(() => readSettings({ NODE_ENV: 'test', WA_WEB_VERSION: 'latest' }), /WA_WEB_VERSION/);
  const { makeDriver } = await import('../src/gateway.js');
  const driver = await makeDriver('baileys', { waWebVersion: [2, 3000, 1] });
  assert.equal(driver.name, 'baileys');
  assert.deepEqual(driver.version, [2, 3000, 1]);
});
