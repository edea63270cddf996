import { Downsampler, lowPassTaps, PHONE_RATE, Upsampler } from './resample';

function tone(freq: number, rate: number, seconds: number, phase0 = 0): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, n) => Math.sin(phase0 + (2 * Math.PI * freq * n) / rate));
}

function rms(samples: Float32Array, skip = 0): number {
  let sum = 0;
  for (let i = skip; i < samples.length; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / (samples.length - skip));
}

function inChunks(resampler: { process(x: Float32Array): Float32Array }, input: Float32Array, size: number): Float32Array {
  const parts: number[] = [];
  for (let i = 0; i < input.length; i += size) parts.push(...resampler.process(input.subarray(i, i + size)));
  return Float32Array.from(parts);
}

describe('low-pass taps', () => {
  it('have unity gain at DC and are symmetric', () => {
    const h = lowPassTaps(48000, 3600, 63);
    expect(h.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    for (let i = 0; i < h.length; i++) expect(h[i]).toBeCloseTo(h[h.length - 1 - i]!, 7);
  });
});

describe.each([48000, 44100])('Downsampler %i Hz → 8 kHz', (rate) => {
  it('yields 8000 samples a second, whatever the chunking (128-sample render quanta)', () => {
    const out = inChunks(new Downsampler(rate), tone(440, rate, 1), 128);
    expect(Math.abs(out.length - PHONE_RATE)).toBeLessThanOrEqual(1);
  });

  it('keeps speech-band tones', () => {
    for (const f of [300, 1000, 3000]) {
      const out = inChunks(new Downsampler(rate), tone(f, rate, 0.5), 128);
      expect(rms(out, 100), `${f} Hz`).toBeGreaterThan(0.6); // a sine's RMS is 0.707
    }
  });

  it('removes what would alias (above 4 kHz)', () => {
    for (const f of [5000, 7000, 12000]) {
      const out = inChunks(new Downsampler(rate), tone(f, rate, 0.5), 128);
      expect(rms(out, 100), `${f} Hz`).toBeLessThan(0.02);
    }
  });

  it('gives the same samples in one chunk or many', () => {
    const input = tone(700, rate, 0.2);
    const whole = new Downsampler(rate).process(input);
    const chunked = inChunks(new Downsampler(rate), input, 97);
    expect(chunked.length).toBe(whole.length);
    chunked.forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 6));
  });
});

describe('Upsampler 8 kHz → output rate', () => {
  it.each([48000, 44100])('yields the output rate and keeps the tone at %i Hz', (rate) => {
    const out = inChunks(new Upsampler(rate), tone(500, PHONE_RATE, 1), 160);
    expect(Math.abs(out.length - rate)).toBeLessThanOrEqual(1);
    expect(rms(out, 100)).toBeGreaterThan(0.69);
    // The tone is still 500 Hz: compare with the ideal one (linear interpolation is close at 500 Hz).
    const ideal = tone(500, rate, 1, (-2 * Math.PI * 500) / PHONE_RATE);
    let err = 0;
    for (let i = 100; i < out.length - 1; i++) err = Math.max(err, Math.abs(out[i]! - ideal[i]!));
    expect(err).toBeLessThan(0.05);
  });

  it('refuses impossible rates', () => {
    expect(() => new Upsampler(4000)).toThrow(RangeError);
    expect(() => new Downsampler(4000)).toThrow(RangeError);
  });
});
