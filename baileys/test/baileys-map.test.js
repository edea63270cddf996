// The Baileys driver's mapping functions with fixtures shaped like Baileys 7 (rc14) objects,
// and its auth state round trip through our AuthStore (Buffers survive via BufferJSON).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Boom } from '@hapi/boom';
import { DisconnectReason, initAuthCreds } from 'baileys';
import {
  jidToPhone, normalizeLid, disconnectInfo, inboundFromMessage, statusFromUpdate, reachoutUntil, sendErrorFrom, contentFor, meFromCreds,
} from '../src/drivers/baileys-map.js';
import { loadAuthState } from '../src/drivers/baileys.js';
import { classifyDisconnect } from '../src/disconnect.js';
import { AuthStore } from '../src/auth-store.js';
import { tmpDir, validate } from './helpers.js';

test('JIDs: phone JIDs (with device) to E.164, LIDs normalised, groups ignored', () => {
  assert.equal(jidToPhone('15551230000@s.whatsapp.net'), '+15551230000');
  assert.equal(jidToPhone('15551230000:12@s.whatsapp.net'), '+15551230000');
  assert.equal(jidToPhone('1203630@g.us'), null);
  assert.equal(jidToPhone('123@lid'), null);
  assert.equal(normalizeLid('98765:3@lid'), '98765@lid');
  assert.equal(normalizeLid('1555@s.whatsapp.net'), null);
  assert.deepEqual(meFromCreds({ id: '15551230000:7@s.whatsapp.net', lid: '555:7@lid' }), { phone: '+15551230000', lid: '555@lid' });
});

test('disconnect errors (Boom, as Baileys raises them) map to the policy', () => {
  const close = (code, msg = 'x') => disconnectInfo({ error: new Boom(msg, { statusCode: code }) });
  assert.equal(classifyDisconnect(close(DisconnectReason.loggedOut).code).reason, 'logged_out');
  assert.equal(classifyDisconnect(close(DisconnectReason.forbidden).code).reason, 'forbidden');
  assert.equal(classifyDisconnect(close(DisconnectReason.connectionReplaced).code).reason, 'connection_replaced');
  assert.equal(classifyDisconnect(close(DisconnectReason.restartRequired).code).action, 'restart');
  const qr = close(DisconnectReason.timedOut, 'QR refs attempts ended');
  assert.equal(classifyDisconnect(qr.code, qr.message, 'qr').reason, 'qr_timeout');
  assert.equal(classifyDisconnect(close(DisconnectReason.connectionClosed).code).action, 'backoff');
  assert.deepEqual(disconnectInfo(undefined), { code: 428, message: '' });
});

const base = { messageTimestamp: 1796000000, pushName: 'Ana' };

test('inbound: phone JID, LID with remoteJidAlt, media caption, wrappers; skips own/group/status/empty', () => {
  let d = inboundFromMessage({ ...base, key: { id: 'A1', remoteJid: '15557654321@s.whatsapp.net', fromMe: false, remoteJidAlt: '777@lid' },
    message: { conversation: 'Can I book Tuesday?' } });
  assert.deepEqual(d, { message_id: 'A1', chat: '15557654321@s.whatsapp.net', from_phone: '+15557654321', from_lid: '777@lid',
    push_name: 'Ana', text: 'Can I book Tuesday?', media: null, timestamp: '2026-11-30T00:53:20.000Z' });
  validate('event_message_inbound', d);
  d = inboundFromMessage({ ...base, key: { id: 'A2', remoteJid: '98765@lid', fromMe: false, remoteJidAlt: '15557654321@s.whatsapp.net' },
    message: { extendedTextMessage: { text: 'via lid' } } });
  assert.equal(d.from_phone, '+15557654321');
  assert.equal(d.from_lid, '98765@lid');
  d = inboundFromMessage({ key: { id: 'A3', remoteJid: '98765@lid', fromMe: false }, messageTimestamp: { low: 1796000000, high: 0 },
    message: { ephemeralMessage: { message: { imageMessage: { mimetype: 'image/jpeg', caption: 'x-ray' } } } } });
  assert.deepEqual([d.from_phone, d.from_lid, d.text, d.media, d.push_name], [null, '98765@lid', 'x-ray', { mime: 'image/jpeg', caption: 'x-ray' }, null]);
  validate('event_message_inbound', d);
  for (const skip of [
    { key: { id: 'B', remoteJid: '1555@s.whatsapp.net', fromMe: true }, message: { conversation: 'mine' } },
    { key: { id: 'C', remoteJid: '1203630@g.us', fromMe: false }, message: { conversation: 'group' } },
    { key: { id: 'D', remoteJid: 'status@broadcast', fromMe: false }, message: { conversation: 's' } },
    { key: { id: 'E', remoteJid: '15557654321@s.whatsapp.net', fromMe: false }, message: { reactionMessage: { text: '👍' } } },
    { key: { id: 'F', remoteJid: '15557654321@s.whatsapp.net', fromMe: false } },
  ]) assert.equal(inboundFromMessage(skip), null, JSON.stringify(skip.key));
});

test('status updates: ack levels, ERROR with its code (463), ignores pending and inbound', () => {
  const key = { id: 'M1', remoteJid: '1555@s.whatsapp.net', fromMe: true };
  assert.deepEqual(statusFromUpdate({ key, update: { status: 2 } }), { message_id: 'M1', status: 'server_ack', error: null });
  assert.equal(statusFromUpdate({ key, update: { status: 3 } }).status, 'delivered');
  assert.equal(statusFromUpdate({ key, update: { status: 4 } }).status, 'read');
  assert.equal(statusFromUpdate({ key, update: { status: 5 } }).status, 'read');
  const failed = statusFromUpdate({ key, update: { status: 0, messageStubParameters: ['463'] } });
  assert.deepEqual(failed, { message_id: 'M1', status: 'failed', error: '463' });
  validate('event_message_status', failed);
  assert.equal(statusFromUpdate({ key, update: { status: 1 } }), null);
  assert.equal(statusFromUpdate({ key: { ...key, fromMe: false }, update: { status: 3 } }), null);
  assert.equal(statusFromUpdate({ key, update: { starred: true } }), null);
});

test('reach-out time-lock and send errors', () => {
  const ends = new Date(Date.now() + 3600e3);
  assert.equal(reachoutUntil({ reachoutTimeLock: { isActive: true, timeEnforcementEnds: ends } }), ends);
  assert.equal(reachoutUntil({ reachoutTimeLock: { isActive: false } }), null);
  assert.equal(reachoutUntil({ connection: 'open' }), null);
  assert.ok(reachoutUntil({ reachoutTimeLock: { isActive: true } }) > new Date());
  assert.equal(sendErrorFrom(new Boom('nack', { statusCode: 463 })).kind, 'reach_out_limited');
  assert.equal(sendErrorFrom(new Error('Connection Closed')).kind, 'send_failed');
  assert.deepEqual(contentFor({ text: 'hi', media: null }), { text: 'hi' });
  assert.deepEqual(contentFor({ text: '', media: { url: 'https://x/a.jpg', mime: 'image/jpeg', caption: 'c' } }),
    { image: { url: 'https://x/a.jpg' }, caption: 'c', mimetype: 'image/jpeg' });
  assert.ok(contentFor({ text: 't', media: { path: '/v/a.pdf', url: null, mime: 'application/pdf' } }).document);
});

test('auth state: creds and keys persist through AuthStore with Buffers intact; null deletes', async () => {
  const dir = await tmpDir();
  const store = new AuthStore(dir);
  const first = await loadAuthState(store, '42');
  assert.ok(Buffer.isBuffer(first.state.creds.noiseKey.private));
  await first.saveCreds();
  await first.state.keys.set({ 'pre-key': { 1: { public: Buffer.from([1, 2]), private: Buffer.from([3]) }, 2: { public: Buffer.from([9]), private: Buffer.from([9]) } } });
  await first.state.keys.set({ 'pre-key': { 2: null } });
  const again = await loadAuthState(store, '42');
  assert.deepEqual(again.state.creds.noiseKey.private, first.state.creds.noiseKey.private);
  const got = await again.state.keys.get('pre-key', ['1', '2']);
  assert.deepEqual(Object.keys(got), ['1']);
  assert.ok(Buffer.isBuffer(got['1'].public));
  assert.deepEqual([...got['1'].public], [1, 2]);
  assert.deepEqual(await store.listBusinesses(), ['42']);
  const files = await fs.readdir(store.dir('42'));
  assert.deepEqual(files.sort(), ['creds.json', 'keys.json'], 'no temp files left behind');
  assert.equal((await fs.stat(path.join(store.dir('42'), 'creds.json'))).mode & 0o777, 0o600);
  await fs.writeFile(path.join(store.dir('42'), 'keys.json'), 'garbage');
  await assert.rejects(loadAuthState(store, '42'), (err) => err.code === 'auth_state_corrupt' && !/noiseKey|private/.test(err.message));
  assert.ok(initAuthCreds().registrationId > 0);
});
