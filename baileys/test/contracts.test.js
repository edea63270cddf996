// The contract files shared with Python (contracts/whatsapp): every fixture validates against
// its schema, and broken copies of them do not (so the schemas really constrain something).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CONTRACTS_DIR, loadSchemas } from '../src/schemas.js';
import { validate } from './helpers.js';

const fixturesDir = path.join(CONTRACTS_DIR, 'fixtures');
const index = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'index.json'), 'utf8'));
const load = (name) => JSON.parse(fs.readFileSync(path.join(fixturesDir, name), 'utf8'));

test('every fixture is listed in index.json and validates against its schema', () => {
  const files = fs.readdirSync(fixturesDir).filter((n) => n.endsWith('.json') && n !== 'index.json').sort();
  assert.deepEqual(Object.keys(index).sort(), files);
  const schemas = loadSchemas();
  for (const [file, schema] of Object.entries(index)) validate(schema.replace(/\.json$/, ''), load(file));
  for (const type of ['message.inbound', 'message.status', 'session.state', 'session.limited']) {
    assert.ok(Object.keys(index).some((f) => index[f] === 'event_envelope.json' && load(f).type === type), `a fixture for ${type}`);
  }
  assert.ok(Object.keys(schemas).length >= 12);
});

test('broken fixtures are rejected', () => {
  const inbound = load('event_message_inbound.json');
  const bad = [
    ['event_envelope', { ...inbound, seq: 0 }],
    ['event_envelope', { ...inbound, type: 'message.unknown' }],
    ['event_envelope', { ...inbound, data: { ...inbound.data, from_phone: '15557654321' } }],
    ['event_envelope', { ...load('event_session_limited.json'), data: { until: 'tomorrow', reason: 'reach_out_limited' } }],
    ['event_envelope', { ...load('event_session_state.json'), data: { ...load('session_connected.json') } }], // has qr
    ['session', { ...load('session_connected.json'), state: 'online' }],
    ['send_request', { ...load('send_request.json'), idempotency_key: '' }],
    ['send_response', { ...load('send_response.json'), status: 'queued' }],
  ];
  for (const [schema, value] of bad) assert.throws(() => validate(schema, value), /invalid/, JSON.stringify(value).slice(0, 120));
});

test('the signed example (checked by Python too) is what the gateway signs', async () => {
  const { signBody } = await import('../src/event-queue.js');
  const ex = JSON.parse(fs.readFileSync(path.join(CONTRACTS_DIR, 'signed_event_example.json'), 'utf8'));
  assert.equal(`v1=${signBody(ex.secret, Number(ex.timestamp), Buffer.from(ex.body))}`, ex.signature);
  validate('event_envelope', JSON.parse(ex.body));
});
