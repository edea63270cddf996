// One browser test call, wired end to end: microphone → capture worklet → resample to 8 kHz →
// μ-law → 20 ms frames → Media Streams client → the calls service; and the agent's μ-law →
// linear → upsample → playback worklet (jitter buffer, clear, marks echoed once played).
// Loaded lazily by the panel, so none of this is in the dashboard's first paint.

// Vite bundles each worklet (with what it imports) and gives its URL; the resolver sees only the .ts.
// eslint-disable-next-line import-x/default
import captureUrl from '../audio/capture.worklet.ts?worker&url';
import { Framer } from '../audio/framer';
import { decode, encode, floatToPcm16, pcm16ToFloat } from '../audio/mulaw';
// eslint-disable-next-line import-x/default
import playbackUrl from '../audio/playback.worklet.ts?worker&url';
import { Downsampler, Upsampler } from '../audio/resample';
import {
  CAPTURE_PROCESSOR,
  PLAYBACK_PROCESSOR,
  type CaptureMessage,
  type PlaybackCommand,
  type PlaybackReport,
} from '../audio/worklet-messages';
import { MediaStreamsClient, type CallEnding, type SocketFactory } from '../protocol/media-streams';

export type SessionHandlers = {
  onTalking: () => void;
  onAgentSpeaking: (speaking: boolean) => void;
  onEnded: (ending: CallEnding) => void;
};

export type TestCallSession = {
  setMuted: (muted: boolean) => void;
  hangUp: () => void;
};

export type SessionOptions = {
  url: string;
  callSid: string;
  parameters: Record<string, string>;
  microphone: MediaStream;
  handlers: SessionHandlers;
  socketFactory?: SocketFactory;
};

export async function openSession(options: SessionOptions): Promise<TestCallSession> {
  const { microphone, handlers } = options;
  const context = new AudioContext({ latencyHint: 'interactive' });
  await Promise.all([context.audioWorklet.addModule(captureUrl), context.audioWorklet.addModule(playbackUrl)]);
  const source = context.createMediaStreamSource(microphone);
  const capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1 });
  const playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
  source.connect(capture);
  playback.connect(context.destination);

  const down = new Downsampler(context.sampleRate);
  const up = new Upsampler(context.sampleRate);
  const framer = new Framer();
  let muted = false;
  let finished = false;

  const post = (command: PlaybackCommand) => {
    playback.port.postMessage(command, command.type === 'audio' ? [command.samples.buffer] : []);
  };

  const client = new MediaStreamsClient({
    url: options.url,
    callSid: options.callSid,
    parameters: options.parameters,
    socketFactory: options.socketFactory,
    handlers: {
      onStarted: () => handlers.onTalking(),
      onMedia: (ulaw) => post({ type: 'audio', samples: up.process(pcm16ToFloat(decode(ulaw))) }),
      onMark: (name) => post({ type: 'mark', name }),
      onClear: () => post({ type: 'clear' }),
      onEnded: (ending) => {
        finish();
        handlers.onEnded(ending);
      },
    },
  });

  capture.port.onmessage = (event: MessageEvent<CaptureMessage>) => {
    const samples = down.process(event.data.samples);
    // Muted: the agent still gets 20 ms frames (of silence), as a phone on mute sends them.
    const pcm = muted ? new Int16Array(samples.length) : floatToPcm16(samples);
    for (const frame of framer.push(encode(pcm))) client.sendMedia(frame);
  };
  playback.port.onmessage = (event: MessageEvent<PlaybackReport>) => {
    const report = event.data;
    if (report.type === 'mark') client.sendMark(report.name);
    else if (report.type === 'cleared') report.marks.forEach((name) => client.sendMark(name));
    else handlers.onAgentSpeaking(report.playing);
  };

  function finish(): void {
    if (finished) return;
    finished = true;
    capture.port.onmessage = null;
    source.disconnect();
    capture.disconnect();
    playback.disconnect();
    microphone.getTracks().forEach((track) => track.stop());
    void context.close();
  }

  return {
    setMuted: (value) => {
      muted = value;
    },
    hangUp: () => client.hangUp(),
  };
}
