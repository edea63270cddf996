// AudioWorklet: plays the agent's audio through the jitter buffer, honours `clear`, and reports
// each `mark` once the audio before it has played (and `playing` changes, for "agent speaking").
import { PlaybackBuffer } from './playback-buffer';
import { PLAYBACK_PROCESSOR, type PlaybackCommand, type PlaybackReport } from './worklet-messages';

const PREBUFFER_SECONDS = 0.08;

class PlaybackProcessor extends AudioWorkletProcessor {
  private readonly buffer = new PlaybackBuffer(Math.round(sampleRate * PREBUFFER_SECONDS));
  private wasPlaying = false;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<PlaybackCommand>) => {
      const command = event.data;
      if (command.type === 'audio') this.buffer.push(command.samples);
      else if (command.type === 'mark') this.report(this.buffer.mark(command.name));
      else this.report(this.buffer.clear());
    };
  }

  private report(events: PlaybackReport[]): void {
    for (const event of events) this.port.postMessage(event);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0];
    const first = output?.[0];
    if (!output || !first) return true;
    this.report(this.buffer.render(first));
    for (const channel of output.slice(1)) channel.set(first);
    const playing = this.buffer.isPlaying || this.buffer.bufferedSamples > 0;
    if (playing !== this.wasPlaying) {
      this.wasPlaying = playing;
      this.report([{ type: 'level', playing }]);
    }
    return true;
  }
}

registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);
