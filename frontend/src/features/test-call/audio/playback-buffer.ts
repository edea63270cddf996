// The playback side's jitter buffer (pure; the playback AudioWorklet drives it one render
// quantum at a time). The agent's audio arrives in bursts over the WebSocket; the buffer waits
// for `prebufferSamples` before it starts playing (and again after running dry), so network
// jitter becomes a little latency instead of clicks. Marks are queued at the position of the
// audio sent before them and reported once that audio has played — what Twilio does, and what
// the calls service's pacing relies on; `clear` drops the queued audio and reports every
// pending mark at once (Twilio echoes them on clear too).

export type PlaybackEvent = { type: 'mark'; name: string } | { type: 'cleared'; marks: string[] };

export class PlaybackBuffer {
  private chunks: Float32Array[] = [];
  private offset = 0; // read position in chunks[0]
  private queued = 0; // samples queued and not yet played
  private written = 0; // samples ever queued
  private played = 0; // samples ever played
  private marks: { name: string; at: number }[] = [];
  private playing = false;

  constructor(readonly prebufferSamples: number) {}

  push(samples: Float32Array): void {
    if (!samples.length) return;
    this.chunks.push(samples);
    this.queued += samples.length;
    this.written += samples.length;
  }

  /** A mark after everything pushed so far. */
  mark(name: string): PlaybackEvent[] {
    this.marks.push({ name, at: this.written });
    return this.due();
  }

  /** Drop the queued audio; every pending mark counts as played. */
  clear(): PlaybackEvent[] {
    const marks = this.marks.map((m) => m.name);
    this.played += this.queued;
    this.chunks = [];
    this.offset = 0;
    this.queued = 0;
    this.marks = [];
    this.playing = false;
    return [{ type: 'cleared', marks }];
  }

  get bufferedSamples(): number {
    return this.queued;
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /** Fill `out` (silence where there is nothing to play); returns the marks now played. */
  render(out: Float32Array): PlaybackEvent[] {
    out.fill(0);
    if (!this.playing && this.queued >= Math.max(1, this.prebufferSamples)) this.playing = true;
    if (!this.playing && this.queued > 0 && this.marks.length > 0) {
      // A mark ends the utterance: play its tail without waiting for more audio.
      this.playing = true;
    }
    let filled = 0;
    let chunk: Float32Array | undefined;
    while (this.playing && filled < out.length && (chunk = this.chunks[0]) !== undefined) {
      const take = Math.min(out.length - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + take), filled);
      filled += take;
      this.offset += take;
      this.queued -= take;
      this.played += take;
      if (this.offset >= chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    if (this.queued === 0) this.playing = false; // ran dry: prebuffer again
    return this.due();
  }

  private due(): PlaybackEvent[] {
    const events: PlaybackEvent[] = [];
    let next = this.marks[0];
    while (next !== undefined && next.at <= this.played) {
      this.marks.shift();
      events.push({ type: 'mark', name: next.name });
      next = this.marks[0];
    }
    return events;
  }
}
