// Sample-rate conversion for the test call (pure, streaming: state carries across chunks).
// Down: the microphone's rate (48 kHz, 44.1 kHz, …) → 8 kHz through a windowed-sinc low-pass
// (cut-off just under 4 kHz, so nothing above the telephone band folds back as aliasing).
// Up: 8 kHz → the output device's rate by linear interpolation (the agent's audio is already
// band-limited to 4 kHz; the playback device's own filter does the rest).

export const PHONE_RATE = 8000;

/** Low-pass FIR taps: windowed sinc (Blackman), unity gain at DC. */
export function lowPassTaps(inputRate: number, cutoffHz: number, taps: number): Float32Array {
  const fc = cutoffHz / inputRate;
  const m = taps - 1;
  const h = new Float32Array(taps);
  let sum = 0;
  for (let n = 0; n < taps; n++) {
    const x = n - m / 2;
    const sinc = x === 0 ? 2 * Math.PI * fc : Math.sin(2 * Math.PI * fc * x) / x;
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / m) + 0.08 * Math.cos((4 * Math.PI * n) / m);
    h[n] = sinc * window;
    sum += h[n] ?? 0;
  }
  for (let n = 0; n < taps; n++) h[n] = (h[n] ?? 0) / sum;
  return h;
}

/** Streaming decimator: any input rate ≥ 8 kHz → 8 kHz. Output k is taken at input sample
 * floor(k · inputRate / outputRate) (exact integer arithmetic: the same samples whatever the
 * chunking), through a low-pass whose pass band ends near 3 kHz and stop band starts near 4.2 kHz. */
export class Downsampler {
  private readonly taps: Float32Array;
  private history: Float32Array; // the last taps-1 input samples
  private consumed = 0; // input samples seen before this chunk
  private produced = 0; // output samples made

  constructor(
    readonly inputRate: number,
    readonly outputRate: number = PHONE_RATE,
  ) {
    if (!(inputRate >= outputRate) || outputRate <= 0 || !Number.isInteger(inputRate) || !Number.isInteger(outputRate)) {
      throw new RangeError(`cannot downsample ${inputRate} Hz to ${outputRate} Hz`);
    }
    const count = Math.ceil((5.5 * inputRate) / 1200) | 1; // Blackman: transition ≈ 5.5·fs/N
    this.taps = inputRate === outputRate ? Float32Array.of(1) : lowPassTaps(inputRate, outputRate * 0.45, count);
    this.history = new Float32Array(this.taps.length - 1);
  }

  /** Feed input samples; returns the output samples they complete. */
  process(input: Float32Array): Float32Array {
    const pad = this.history.length;
    const buffer = new Float32Array(pad + input.length);
    buffer.set(this.history);
    buffer.set(input, pad);
    const out: number[] = [];
    const taps = this.taps;
    const end = this.consumed + input.length;
    for (;;) {
      const at = Math.floor((this.produced * this.inputRate) / this.outputRate); // absolute input index
      if (at >= end) break;
      const newest = at - this.consumed + pad; // its index in buffer
      let acc = 0;
      for (let t = 0; t < taps.length; t++) acc += (taps[t] ?? 0) * (buffer[newest - t] ?? 0);
      out.push(acc);
      this.produced += 1;
    }
    this.consumed = end;
    this.history = buffer.slice(buffer.length - pad);
    return Float32Array.from(out);
  }
}

/** Streaming linear-interpolation upsampler: 8 kHz → the output rate. Output k sits at input
 * position k · inputRate / outputRate, interpolated between the samples around it. */
export class Upsampler {
  private last = 0; // the input sample before this chunk
  private consumed = 0; // input samples seen before this chunk
  private produced = 0;

  constructor(
    readonly outputRate: number,
    readonly inputRate: number = PHONE_RATE,
  ) {
    if (!(outputRate >= inputRate) || inputRate <= 0 || !Number.isInteger(inputRate) || !Number.isInteger(outputRate)) {
      throw new RangeError(`cannot upsample ${inputRate} Hz to ${outputRate} Hz`);
    }
  }

  process(input: Float32Array): Float32Array {
    const out: number[] = [];
    const end = this.consumed + input.length;
    for (;;) {
      // Output k lies between input samples i-1 and i (absolute), i = floor(k·in/out) + 1.
      const scaled = this.produced * this.inputRate;
      const base = Math.floor(scaled / this.outputRate);
      if (base + 1 > end) break;
      const frac = (scaled - base * this.outputRate) / this.outputRate;
      const a = base - this.consumed - 1 < 0 ? this.last : (input[base - this.consumed - 1] ?? 0);
      const b = base - this.consumed < input.length ? (input[base - this.consumed] ?? 0) : a;
      out.push(a + (b - a) * frac);
      this.produced += 1;
    }
    this.consumed = end;
    if (input.length) this.last = input[input.length - 1] ?? 0;
    return Float32Array.from(out);
  }
}
