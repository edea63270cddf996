// Assembles one shard: stores on BAILEYS_DATA_DIR, the driver, the event queue, the session
// manager and the HTTP app. server.js runs it as a process; tests run it in-process.
import fs from 'node:fs/promises';
import pino from 'pino';
import { AuthStore } from './auth-store.js';
import { MetaStore } from './meta-store.js';
import { IdempotencyStore } from './idempotency.js';
import { EventQueue } from './event-queue.js';
import { SessionManager } from './session-manager.js';
import { buildApp } from './app.js';
import { ShardLock } from './shard-lock.js';

export async function makeDriver(name, settings = {}) {
  if (name === 'fake') {
    const { FakeDriver } = await import('./drivers/fake.js');
    return new FakeDriver();
  }
  const { BaileysDriver } = await import('./drivers/baileys.js');
  return new BaileysDriver({ version: settings.waWebVersion || null });
}

export async function createGateway(settings, {
  log = pino({ level: settings.logLevel }), driver = null, eventOptions = {}, backoff = {}, lockTtlMs = 15000,
  onLockLost = () => process.exit(1),
} = {}) {
  await fs.mkdir(settings.dataDir, { recursive: true, mode: 0o700 });
  const lock = new ShardLock(settings.dataDir, { ttlMs: lockTtlMs, onLost: (held) => {
    log.fatal({ holder: held && { pid: held.pid, host: held.host } }, 'another process took this shard volume: stopping now');
    onLockLost();
  } });
  await lock.acquire(); // throws ShardLockHeld when another live process uses the volume
  const drv = driver || await makeDriver(settings.driver, settings);
  const authStore = new AuthStore(settings.dataDir);
  const metaStore = new MetaStore(settings.dataDir);
  const idempotency = new IdempotencyStore(settings.dataDir);
  await idempotency.open();
  const events = new EventQueue({ dataDir: settings.dataDir, shardId: settings.shardId, apiUrl: settings.apiUrl,
    secret: settings.secret, log, ...eventOptions });
  await events.open();
  const manager = new SessionManager({ shardId: settings.shardId, driver: drv, authStore, metaStore, idempotency, events, log, backoff });
  const app = buildApp({ settings, manager, events, driver: drv, logger: log });
  let restoring = Promise.resolve([]);
  let stopped = null;
  return {
    app, manager, driver: drv, events, authStore, settings, lock,
    async listen() {
      await app.listen({ port: settings.port, host: '0.0.0.0' });
      restoring = manager.restore(settings.staggerMs);
      return app.server.address().port;
    },
    restoring: () => restoring,
    /** SIGTERM path: /health says draining (503), writes refused, events flushed (bounded), sockets closed. */
    stop() {
      if (stopped) return stopped;
      stopped = (async () => {
        app.gateway.draining = true;
        manager.draining = true; // no new connections; live ones keep feeding the queue until closeAll
        const flushed = await events.flush(settings.drainMs);
        if (!flushed) log.warn({ events_pending: events.pending }, 'shutdown with undelivered events (kept on the volume)');
        await manager.closeAll();
        events.close();
        await app.close();
        await lock.release();
      })();
      return stopped;
    },
  };
}
