import { FRAME_BYTES, Framer } from './framer';

describe('Framer', () => {
  it('cuts 160-byte frames (20 ms at 8 kHz) across uneven pushes, in order', () => {
    const framer = new Framer();
    const stream = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const frames: Uint8Array[] = [];
    for (const size of [1, 42, 117, 200, 0, 340, 300]) {
      const offset = frames.length * FRAME_BYTES + framer.buffered;
      frames.push(...framer.push(stream.subarray(offset, offset + size)));
    }
    expect(frames).toHaveLength(6);
    expect(frames.every((f) => f.length === 160)).toBe(true);
    expect(Array.from(frames.flatMap((f) => Array.from(f)))).toEqual(Array.from(stream.subarray(0, 960)));
    expect(framer.buffered).toBe(40);
    framer.reset();
    expect(framer.buffered).toBe(0);
  });

  it('a frame is a copy: later pushes do not change it', () => {
    const framer = new Framer(4);
    const data = Uint8Array.of(1, 2, 3, 4);
    const [frame] = framer.push(data);
    data[0] = 9;
    expect(Array.from(frame!)).toEqual([1, 2, 3, 4]);
  });
});
