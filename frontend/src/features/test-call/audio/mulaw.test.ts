import fixture from './g711-audioop.fixture.json';
import { decode, decodeSample, encode, encodeSample, floatToPcm16, fromBase64, pcm16ToFloat, toBase64 } from './mulaw';

// The fixture was made with Python 3.11's audioop (what the calls service's codec matches):
// lin2ulaw over every int16 -32768..32767, ulaw2lin over bytes 0..255.

describe('G.711 μ-law', () => {
  it('encodes all 65536 samples exactly as audioop.lin2ulaw', async () => {
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const encoded = encode(all);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(encoded)));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    expect(hex).toBe(fixture.encode_all_sha256);
    for (const [sample, byte] of Object.entries(fixture.encode_samples)) {
      expect(encodeSample(Number(sample)), `sample ${sample}`).toBe(byte);
      expect(encoded[Number(sample) + 32768]).toBe(byte);
    }
  });

  it('decodes all 256 bytes exactly as audioop.ulaw2lin', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(decode(bytes))).toEqual(fixture.decode_table);
    expect(decodeSample(0xff)).toBe(0);
    expect(decodeSample(0x00)).toBe(-32124);
  });

  it('round-trips every byte (decode then encode is the identity but for the two zeros)', () => {
    for (let byte = 0; byte < 256; byte++) {
      const back = encodeSample(decodeSample(byte));
      expect(byte === 0x7f ? back === 0xff : back === byte, `byte ${byte} → ${back}`).toBe(true);
    }
  });

  it('converts floats to PCM with clipping, and back', () => {
    expect(Array.from(floatToPcm16(Float32Array.of(0, 1, -1, 2, -2, 0.5)))).toEqual([0, 32767, -32768, 32767, -32768, 16384]);
    expect(Array.from(pcm16ToFloat(Int16Array.of(-32768, 0, 16384)))).toEqual([-1, 0, 0.5]);
  });

  it('base64 payloads round-trip', () => {
    expect(toBase64(Uint8Array.of(0, 1, 2, 250, 255))).toBe('AAEC+v8=');
    const bytes = Uint8Array.from({ length: 160 }, (_, i) => (i * 37) & 0xff);
    expect(Array.from(fromBase64(toBase64(bytes)))).toEqual(Array.from(bytes));
  });
});
