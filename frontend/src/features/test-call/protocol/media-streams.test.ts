import { toBase64 } from '../audio/mulaw';

import { FakeSocket } from './fake-socket';
import {
  describeClose,
  grantStreamUrl,
  MediaStreamsClient,
  streamUrl,
  TWILIO_SUBPROTOCOL,
  type CallEnding,
} from './media-streams';

const PARAMS = { business_id: '7', token: 'ab'.repeat(32), direction: 'inbound', from: '+15550100007', to: '+15550100007', test: '1' };
const SID = `CA${'b0'.repeat(16)}`;

function connect() {
  let socket: FakeSocket | null = null;
  const seen = { media: [] as Uint8Array[], marks: [] as string[], clears: 0, started: 0, ended: [] as CallEnding[] };
  const client = new MediaStreamsClient({
    url: 'ws://calls.test/ws/browser?access=tok',
    callSid: SID,
    parameters: PARAMS,
    streamSid: `MZ${'1'.repeat(32)}`,
    socketFactory: (url, protocols) => (socket = new FakeSocket(url, protocols)),
    handlers: {
      onStarted: () => (seen.started += 1),
      onMedia: (ulaw) => seen.media.push(ulaw),
      onMark: (name) => seen.marks.push(name),
      onClear: () => (seen.clears += 1),
      onEnded: (ending) => seen.ended.push(ending),
    },
  });
  return { client, socket: socket as unknown as FakeSocket, seen };
}

describe('MediaStreamsClient', () => {
  it('opens the URL with the Twilio subprotocol and sends connected then start with the parameters', () => {
    const { socket, seen } = connect();
    expect(socket.url).toBe('ws://calls.test/ws/browser?access=tok');
    expect(socket.protocols).toBe(TWILIO_SUBPROTOCOL);
    socket.open();
    expect(seen.started).toBe(1);
    expect(socket.sent[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(socket.sent[1]).toMatchObject({
      event: 'start',
      sequenceNumber: '2',
      streamSid: `MZ${'1'.repeat(32)}`,
      start: {
        callSid: SID,
        tracks: ['inbound'],
        customParameters: PARAMS,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
  });

  it('sends media frames with chunk, timestamp and sequence numbers', () => {
    const { client, socket } = connect();
    socket.open();
    const frame = new Uint8Array(160).fill(0xff);
    client.sendMedia(frame);
    client.sendMedia(frame);
    const [a, b] = socket.sent.slice(2);
    expect(a).toEqual({
      event: 'media',
      sequenceNumber: '3',
      streamSid: `MZ${'1'.repeat(32)}`,
      media: { track: 'inbound', chunk: '1', timestamp: '0', payload: toBase64(frame) },
    });
    expect(b).toMatchObject({ sequenceNumber: '4', media: { chunk: '2', timestamp: '20' } });
  });

  it('drops media before the socket opens (nothing is sent on a closed socket)', () => {
    const { client, socket } = connect();
    client.sendMedia(new Uint8Array(160));
    expect(socket.sent).toEqual([]);
  });

  it('hands the agent’s media, marks and clear to the handlers; ignores junk', () => {
    const { socket, seen } = connect();
    socket.open();
    socket.receive({ event: 'media', streamSid: 'MZ', media: { payload: toBase64(Uint8Array.of(1, 2, 3)) } });
    socket.receive({ event: 'mark', streamSid: 'MZ', mark: { name: 'utterance-1' } });
    socket.receive({ event: 'clear', streamSid: 'MZ' });
    socket.receive('not json');
    socket.receive({ event: 'media', media: { payload: 5 } });
    socket.receive({ event: 'something_new' });
    expect(seen.media.map((m) => Array.from(m))).toEqual([[1, 2, 3]]);
    expect(seen.marks).toEqual(['utterance-1']);
    expect(seen.clears).toBe(1);
  });

  it('echoes marks', () => {
    const { client, socket } = connect();
    socket.open();
    client.sendMark('utterance-1');
    expect(socket.sent.at(-1)).toMatchObject({ event: 'mark', mark: { name: 'utterance-1' } });
  });

  it('hang up sends stop and closes 1000; the ending says you hung up', () => {
    const { client, socket, seen } = connect();
    socket.open();
    client.hangUp();
    expect(socket.sent.at(-1)).toMatchObject({ event: 'stop', stop: { callSid: SID } });
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'caller hung up' });
    socket.serverClose(1000, 'stream stopped');
    expect(seen.ended).toHaveLength(1);
    expect(seen.ended[0]).toMatchObject({ byUs: true, message: 'You hung up.', isError: false });
  });

  it('the agent hanging up is an ordinary end; a refusal is an error; ended is reported once', () => {
    const first = connect();
    first.socket.open();
    first.socket.serverClose(1000, 'brain finished');
    first.socket.serverClose(1000, 'again');
    expect(first.seen.ended).toEqual([expect.objectContaining({ message: 'The agent hung up.', isError: false })]);
    const second = connect();
    second.socket.open();
    second.socket.serverClose(1008, 'the access token is for another call');
    expect(second.seen.ended[0]).toMatchObject({ code: 1008, isError: true });
  });
});

describe('describeClose', () => {
  it.each([
    [1000, 'stream stopped', 'The call ended.', false],
    [1013, 'calls service full', 'All lines are busy. Try again in a moment.', true],
    [4003, 'inbound silence', 'The agent heard nothing for too long and ended the call. Is your microphone working?', false],
    [4006, 'call already ended', 'This call has already ended. Start a new test call.', true],
    [1006, '', 'The connection to the calls service was lost.', true],
    [4999, 'odd', 'The call ended (code 4999: odd).', true],
  ])('%i %s → %s', (code, reason, message, isError) => {
    expect(describeClose(code, reason, false)).toMatchObject({ message, isError });
  });
});

describe('streamUrl', () => {
  it('uses the API origin, or the page’s, with ws/wss to match http/https', () => {
    expect(streamUrl('/ws/browser?access=t', '', 'https://app.example.com')).toBe('wss://app.example.com/ws/browser?access=t');
    expect(streamUrl('/ws/browser?access=t', 'http://localhost:5000', 'https://x')).toBe('ws://localhost:5000/ws/browser?access=t');
  });
});

describe('grantStreamUrl', () => {
  it('opens the API’s full ws_url when it gives one, else ws_path on the API’s host', () => {
    const path = '/ws/browser?access=t';
    expect(grantStreamUrl({ ws_path: path, ws_url: 'ws://127.0.0.1:5050/ws/browser?access=t' }, '', 'http://127.0.0.1:5000')).toBe(
      'ws://127.0.0.1:5050/ws/browser?access=t',
    );
    expect(grantStreamUrl({ ws_path: path, ws_url: null }, '', 'https://app.example.com')).toBe('wss://app.example.com/ws/browser?access=t');
    expect(grantStreamUrl({ ws_path: path }, '', 'https://app.example.com')).toBe('wss://app.example.com/ws/browser?access=t');
  });
});
