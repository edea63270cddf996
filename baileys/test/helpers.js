// Shared test helpers: a temp shard volume, an in-process gateway on the fake driver, a fake
// API that checks signatures and records events, schema validation with the contract files.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import pino from 'pino';
import { readSettings } from '../src/settings.js';
import { createGateway } from '../src/gateway.js';
import { loadSchemas } from '../src/schemas.js';

export const SECRET = 'test-internal-secret-0123456789';
export const H = { 'x-internal-secret': SECRET, 'x-whatsapp-shard': '1' };

export async function tmpDir(prefix = 'gw-') { return fs.mkdtemp(path.join(os.tmpdir(), prefix)); }

export function settingsFor(dataDir, extra = {}) {
  return readSettings({ NODE_ENV: 'test', WA_DRIVER: 'fake', INTERNAL_SECRET: SECRET, BAILEYS_DATA_DIR: dataDir,
    BAILEYS_PORT: '0', API_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'silent', WA_RESTORE_STAGGER_MS: '0', WA_DRAIN_SECONDS: '0', ...extra });
}

export async function gateway(dataDir, { env = {}, ...opts } = {}) {
  return createGateway(settingsFor(dataDir, env), { log: pino({ level: 'silent' }), eventOptions: { baseDelayMs: 20, maxDelayMs: 200 },
    backoff: { baseMs: 20, capMs: 100 }, ...opts });
}

export async function waitFor(fn, { timeoutMs = 5000, stepMs = 10, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const schemas = loadSchemas();
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const s of Object.values(schemas)) ajv.addSchema(s);
export function validate(name, value) {
  const v = ajv.getSchema(schemas[name].$id);
  if (!v(value)) throw new Error(`${name} invalid: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value)}`);
  return true;
}

/** A fake API: verifies the HMAC signature, records events, answers `respond(event)` (default 200). */
export class FakeApi {
  constructor(secret = SECRET) { this.secret = secret; this.events = []; this.bodies = []; this.respond = () => 200; this.server = null; this.port = 0; }

  async start(port = 0) {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const ts = req.headers['x-prosaas-timestamp'];
        const expected = crypto.createHmac('sha256', this.secret).update(`${ts}.`).update(body).digest('hex');
        if (req.url !== '/internal/whatsapp/events' || req.headers['x-prosaas-signature'] !== `v1=${expected}`
          || Math.abs(Date.now() / 1000 - Number(ts)) > 300) {
          res.writeHead(401, { 'content-type': 'application/json' }); res.end('{"error":"unauthorized"}'); return;
        }
        const event = JSON.parse(body.toString('utf8'));
        const status = this.respond(event);
        if (status === 200) {
          const dup = this.events.some((e) => e.event_id === event.event_id);
          if (!dup) this.events.push(event);
          this.bodies.push(event);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(dup ? '{"stored":false,"duplicate":true}' : '{"stored":true}');
        } else {
          res.writeHead(status, { 'content-type': 'application/json' }); res.end('{"error":"x"}');
        }
      });
    });
    await new Promise((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = this.server.address().port;
    return `http://127.0.0.1:${this.port}`;
  }

  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }

  of(businessId, type) { return this.events.filter((e) => e.business_id === businessId && (!type || e.type === type)); }
}

export async function inject(app, method, url, { headers = H, body } = {}) {
  const res = await app.inject({ method, url, headers, ...(body !== undefined ? { payload: body } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
}

/** Start business `id` and complete the QR scan, returning once it is connected. */
export async function connect(gw, id, me = { phone: '+15551230000', lid: '111222333@lid' }) {
  await inject(gw.app, 'POST', `/sessions/${id}/start`);
  await waitFor(() => gw.manager.view(id).state === 'qr', { what: 'qr' });
  await gw.driver.scan(id, me);
  await waitFor(() => gw.manager.view(id).state === 'connected', { what: 'connected' });
}
