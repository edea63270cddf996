// G.711 μ-law, bit-exact with Python's audioop (lin2ulaw / ulaw2lin, i.e. Sun's g711.c), which
// the calls service uses (callengine/audio/mulaw.py). Pure: no Web Audio, no DOM.

const BIAS = 0x84;
const CLIP = 8159; // 14-bit magnitude limit
const SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;

/** One 16-bit linear sample (-32768..32767) → one μ-law byte. */
export function encodeSample(sample: number): number {
  let pcm = sample >> 2; // audioop encodes the top 14 bits (arithmetic shift, like C)
  let mask: number;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (pcm > CLIP) pcm = CLIP;
  pcm += BIAS >> 2;
  let seg = 0;
  while (seg < 8 && pcm > (SEG_END[seg] ?? 0)) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 1)) & 0xf)) ^ mask;
}

/** One μ-law byte → one 16-bit linear sample. */
export function decodeSample(byte: number): number {
  const u = ~byte & 0xff;
  let t = ((u & 0x0f) << 3) + BIAS;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? BIAS - t : t - BIAS;
}

const DECODE_TABLE = Int16Array.from({ length: 256 }, (_, byte) => decodeSample(byte));
let encodeTable: Uint8Array | null = null;

function table(): Uint8Array {
  if (encodeTable === null) {
    encodeTable = new Uint8Array(65536);
    for (let i = 0; i < 65536; i++) encodeTable[i] = encodeSample(i - 32768);
  }
  return encodeTable;
}

/** 16-bit linear PCM → μ-law bytes. */
export function encode(pcm: Int16Array): Uint8Array {
  const lookup = table();
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = lookup[(pcm[i] ?? 0) + 32768] ?? 0;
  return out;
}

/** μ-law bytes → 16-bit linear PCM. */
export function decode(ulaw: Uint8Array): Int16Array {
  const out = new Int16Array(ulaw.length);
  for (let i = 0; i < ulaw.length; i++) out[i] = DECODE_TABLE[ulaw[i] ?? 0] ?? 0;
  return out;
}

/** Web Audio floats (-1..1) → 16-bit PCM, clipped and rounded. */
export function floatToPcm16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    out[i] = Math.round(s < 0 ? s * 32768 : s * 32767);
  }
  return out;
}

/** 16-bit PCM → Web Audio floats. */
export function pcm16ToFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = (pcm[i] ?? 0) / 32768;
  return out;
}

/** μ-law bytes ↔ base64 (the `media.payload` of Twilio Media Streams). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] ?? 0);
  return btoa(binary);
}

export function fromBase64(payload: string): Uint8Array {
  const binary = atob(payload);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
