// Settings of one gateway shard, read once at start (docs/ARCHITECTURE.md §8). Every bad
// variable is collected so the operator sees the whole list in one error, not one per restart.
import path from 'node:path';

export class SettingsError extends Error {
  constructor(problems) {
    super(`bad gateway settings:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env, name, fallback, min, max, problems) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name}=${JSON.stringify(raw)}: expected an integer ${min}..${max}`);
    return fallback;
  }
  return Number(raw);
}

/** Parse `env` (process.env in production) into a frozen settings object or throw SettingsError. */
export function readSettings(env = process.env) {
  const problems = [];
  const nodeEnv = env.NODE_ENV || 'development';
  const port = integer(env, 'BAILEYS_PORT', 3300, 0, 65535, problems);
  const numShards = integer(env, 'BAILEYS_NUM_SHARDS', 1, 1, 1000, problems);
  const shardId = integer(env, 'BAILEYS_SHARD_ID', 1, 1, 1000, problems);
  if (shardId > numShards) problems.push(`BAILEYS_SHARD_ID=${shardId} is above BAILEYS_NUM_SHARDS=${numShards}`);
  const secret = env.INTERNAL_SECRET || '';
  if (!secret && nodeEnv !== 'development' && nodeEnv !== 'test') {
    problems.push('INTERNAL_SECRET is required outside development');
  } else if (secret && secret.length < 16 && nodeEnv === 'production') {
    problems.push('INTERNAL_SECRET must be at least 16 characters in production');
  }
  const driver = env.WA_DRIVER || 'baileys';
  if (driver !== 'baileys' && driver !== 'fake') {
    problems.push(`WA_DRIVER=${JSON.stringify(driver)}: expected baileys or fake`);
  } else if (driver === 'fake' && nodeEnv === 'production') {
    problems.push('WA_DRIVER=fake is refused when NODE_ENV=production');
  }
  const apiUrl = env.API_URL || 'http://prosaas-api:5000';
  try {
    const u = new URL(apiUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    problems.push(`API_URL=${JSON.stringify(apiUrl)}: expected an http(s) URL`);
  }
  const logLevel = (env.LOG_LEVEL || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)}: expected one of ${LOG_LEVELS.join(', ')}`);
  const staggerMs = integer(env, 'WA_RESTORE_STAGGER_MS', 200, 0, 60000, problems);
  const drainMs = integer(env, 'WA_DRAIN_SECONDS', 10, 0, 600, problems) * 1000;
  let waWebVersion = null;
  if (env.WA_WEB_VERSION) {
    if (/^[0-9]+\.[0-9]+\.[0-9]+$/.test(env.WA_WEB_VERSION)) waWebVersion = env.WA_WEB_VERSION.split('.').map(Number);
    else problems.push(`WA_WEB_VERSION=${JSON.stringify(env.WA_WEB_VERSION)}: expected three numbers like 2.3000.1035194821`);
  }
  if (problems.length) throw new SettingsError(problems);
  const dataDir = path.resolve(env.BAILEYS_DATA_DIR || `./var/baileys/shard-${shardId}`);
  return Object.freeze({
    nodeEnv, port, shardId, numShards, secret: secret || 'dev-internal-secret', driver, apiUrl: apiUrl.replace(/\/+$/, ''),
    dataDir, logLevel, staggerMs, drainMs, waWebVersion,
  });
}
