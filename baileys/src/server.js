// Entry point of one gateway shard: `node src/server.js` (npm start). Settings come from the
// environment (docs/ARCHITECTURE.md §8); bad settings exit 2 with every problem listed.
import pino from 'pino';
import { readSettings, SettingsError } from './settings.js';
import { createGateway } from './gateway.js';
import { ShardLockHeld } from './shard-lock.js';

async function main() {
  let settings;
  try {
    settings = readSettings(process.env);
  } catch (err) {
    if (err instanceof SettingsError) { process.stderr.write(`${err.message}\n`); process.exit(2); }
    throw err;
  }
  const log = pino({ level: settings.logLevel, base: { shard_id: settings.shardId } });
  let gateway;
  try {
    gateway = await createGateway(settings, { log });
  } catch (err) {
    if (err instanceof ShardLockHeld) { log.fatal(err.message); process.exit(1); }
    throw err;
  }
  const port = await gateway.listen();
  log.info({ port, driver: settings.driver, data_dir: settings.dataDir }, 'WhatsApp gateway listening');
  const shutdown = (signal) => {
    log.info({ signal }, 'draining');
    gateway.stop().then(() => { log.info('stopped'); process.exit(0); }, (err) => { log.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => { process.stderr.write(`gateway failed to start: ${err.stack || err}\n`); process.exit(1); });
