// The browser's side of Twilio Media Streams, as the calls service's /ws/browser expects it
// (docs/ARCHITECTURE.md §11.2, §11.5): we play Twilio. Sends connected, start (with the
// customParameters POST /api/test-calls returned), media (base64 μ-law, 160 bytes per 20 ms),
// mark echoes and stop; receives the agent's media, mark and clear. Pure but for the WebSocket,
// which is injected (tests pass a fake).

import { fromBase64, toBase64 } from '../audio/mulaw';

/** The subset of the browser's WebSocket this client uses. */
export type SocketLike = {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
};

export type SocketFactory = (url: string, protocols?: string | string[]) => SocketLike;

export const TWILIO_SUBPROTOCOL = 'audio.twilio.com';
const OPEN = 1;

export type MediaStreamsHandlers = {
  /** The socket is open and `start` was sent. */
  onStarted?: () => void;
  /** The agent's audio: μ-law bytes. */
  onMedia?: (ulaw: Uint8Array) => void;
  /** The agent queued a mark after its audio: echo it (`sendMark`) once that audio has played. */
  onMark?: (name: string) => void;
  /** The agent cut its own audio short (barge-in): drop what is queued. */
  onClear?: () => void;
  /** The call is over; `ending` says why, for people. */
  onEnded?: (ending: CallEnding) => void;
};

export type CallEnding = {
  code: number;
  reason: string;
  /** Ended from this side (hang up). */
  byUs: boolean;
  /** A readable sentence. */
  message: string;
  /** Whether this is a failure to show as an error (not a normal end of call). */
  isError: boolean;
};

// The calls service's close codes (docs/ARCHITECTURE.md §9).
const CLOSE_MESSAGES: Record<number, { message: string; isError: boolean }> = {
  1000: { message: 'The call ended.', isError: false },
  1001: { message: 'The calls service is restarting; the call was ended.', isError: true },
  1006: { message: 'The connection to the calls service was lost.', isError: true },
  1008: { message: 'The call was refused: its token is not valid for this call.', isError: true },
  1009: { message: 'The call was ended: a message was too large.', isError: true },
  1011: { message: 'The calls service had an internal error.', isError: true },
  1013: { message: 'All lines are busy. Try again in a moment.', isError: true },
  4000: { message: 'The call did not start in time.', isError: true },
  4001: { message: 'The call was ended: a protocol error.', isError: true },
  4002: { message: 'The call was ended: an unexpected message.', isError: true },
  4003: { message: 'The agent heard nothing for too long and ended the call. Is your microphone working?', isError: false },
  4004: { message: 'The call reached its maximum length.', isError: false },
  4005: { message: 'This call is already live somewhere else.', isError: true },
  4006: { message: 'This call has already ended. Start a new test call.', isError: true },
};

/** A readable sentence for a close code and reason. */
export function describeClose(code: number, reason: string, byUs: boolean): CallEnding {
  if (byUs) return { code, reason, byUs, message: 'You hung up.', isError: false };
  if (code === 1000 && /hang|brain finished|goodbye/i.test(reason)) {
    return { code, reason, byUs, message: 'The agent hung up.', isError: false };
  }
  const known = CLOSE_MESSAGES[code];
  if (known) return { code, reason, byUs, ...known };
  return {
    code,
    reason,
    byUs,
    message: `The call ended (code ${code}${reason ? `: ${reason}` : ''}).`,
    isError: code !== 1000,
  };
}

export type MediaStreamsOptions = {
  url: string;
  callSid: string;
  parameters: Record<string, string>;
  handlers: MediaStreamsHandlers;
  socketFactory?: SocketFactory;
  /** Stream id; random when not given. */
  streamSid?: string;
};

function randomHex(bytes: number): string {
  const data = new Uint8Array(bytes);
  crypto.getRandomValues(data);
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('');
}

type Inbound = { event?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };

export class MediaStreamsClient {
  readonly streamSid: string;
  private readonly socket: SocketLike;
  private sequence = 0;
  private chunk = 0;
  private ended = false;
  private hungUp = false;

  constructor(private readonly options: MediaStreamsOptions) {
    this.streamSid = options.streamSid ?? `MZ${randomHex(16)}`;
    const factory: SocketFactory = options.socketFactory ?? ((url, protocols) => new WebSocket(url, protocols));
    this.socket = factory(options.url, TWILIO_SUBPROTOCOL);
    this.socket.onopen = () => this.opened();
    this.socket.onmessage = (event) => this.received(event.data);
    this.socket.onclose = (event) => this.closed(event.code, event.reason);
    this.socket.onerror = () => undefined; // onclose follows with the code
  }

  get isOpen(): boolean {
    return !this.ended && this.socket.readyState === OPEN;
  }

  /** One 20 ms frame of the caller's (our) audio. */
  sendMedia(ulaw: Uint8Array): void {
    if (!this.isOpen) return;
    this.chunk += 1;
    this.send({
      event: 'media',
      media: { track: 'inbound', chunk: String(this.chunk), timestamp: String((this.chunk - 1) * 20), payload: toBase64(ulaw) },
    });
  }

  /** Echo a mark: the audio the agent sent before it has played. */
  sendMark(name: string): void {
    if (this.isOpen) this.send({ event: 'mark', mark: { name } });
  }

  /** Hang up: `stop`, then close. */
  hangUp(): void {
    if (this.ended) return;
    this.hungUp = true;
    if (this.socket.readyState === OPEN) {
      this.send({ event: 'stop', stop: { accountSid: '', callSid: this.options.callSid } });
      this.socket.close(1000, 'caller hung up');
    } else {
      this.socket.close();
      this.closed(1000, 'caller hung up');
    }
  }

  private send(message: Record<string, unknown>): void {
    this.sequence += 1;
    const framed = message.event === 'connected' ? message : { ...message, sequenceNumber: String(this.sequence), streamSid: this.streamSid };
    this.socket.send(JSON.stringify(framed));
  }

  private opened(): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.send({
      event: 'start',
      start: {
        streamSid: this.streamSid,
        accountSid: '',
        callSid: this.options.callSid,
        tracks: ['inbound'],
        customParameters: this.options.parameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    this.options.handlers.onStarted?.();
  }

  private received(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: Inbound;
    try {
      message = JSON.parse(data) as Inbound;
    } catch {
      return;
    }
    const { handlers } = this.options;
    if (message.event === 'media' && typeof message.media?.payload === 'string') {
      handlers.onMedia?.(fromBase64(message.media.payload));
    } else if (message.event === 'mark' && typeof message.mark?.name === 'string') {
      handlers.onMark?.(message.mark.name);
    } else if (message.event === 'clear') {
      handlers.onClear?.();
    }
  }

  private closed(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.options.handlers.onEnded?.(describeClose(code, reason, this.hungUp));
  }
}

/** The WebSocket URL of `wsPath` on the API's host (the same origin, or VITE_APP_API_URL's). */
export function streamUrl(wsPath: string, apiOrigin: string, pageOrigin: string): string {
  const origin = new URL(apiOrigin || pageOrigin);
  const scheme = origin.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${origin.host}${wsPath}`;
}

/**
 * The URL a test call opens: the API's full `ws_url` when it gives one (the calls service on its
 * own origin, as in the local stack: CALLS_PUBLIC_WS_URL), else `ws_path` on the API's host.
 */
export function grantStreamUrl(
  grant: { ws_path: string; ws_url?: string | null },
  apiOrigin: string,
  pageOrigin: string,
): string {
  return grant.ws_url || streamUrl(grant.ws_path, apiOrigin, pageOrigin);
}
