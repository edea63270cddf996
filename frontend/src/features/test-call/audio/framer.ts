// Cuts a stream of μ-law bytes into Twilio Media Streams frames: 160 bytes = 20 ms at 8 kHz.

export const FRAME_BYTES = 160;

export class Framer {
  private pending = new Uint8Array(0);

  constructor(readonly frameBytes: number = FRAME_BYTES) {}

  /** Add bytes; returns every whole frame now complete (the rest waits for more). */
  push(bytes: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.pending.length + bytes.length);
    joined.set(this.pending);
    joined.set(bytes, this.pending.length);
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (joined.length - offset >= this.frameBytes) {
      frames.push(joined.slice(offset, offset + this.frameBytes));
      offset += this.frameBytes;
    }
    this.pending = joined.slice(offset);
    return frames;
  }

  /** Bytes waiting for a whole frame. */
  get buffered(): number {
    return this.pending.length;
  }

  reset(): void {
    this.pending = new Uint8Array(0);
  }
}
