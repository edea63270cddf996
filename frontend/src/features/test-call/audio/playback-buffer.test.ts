import { PlaybackBuffer } from './playback-buffer';

const quantum = () => new Float32Array(128);
const ones = (n: number) => new Float32Array(n).fill(1);

describe('PlaybackBuffer (the playback worklet’s jitter buffer)', () => {
  it('waits for the prebuffer, then plays in order', () => {
    const buffer = new PlaybackBuffer(256);
    buffer.push(ones(200));
    const out = quantum();
    buffer.render(out);
    expect(out.every((v) => v === 0)).toBe(true); // 200 < 256: still buffering
    buffer.push(Float32Array.from({ length: 100 }, (_, i) => 2 + i));
    buffer.render(out);
    expect(Array.from(out.subarray(0, 3))).toEqual([1, 1, 1]);
    buffer.render(out);
    expect(out[71]).toBe(1);
    expect(out[72]).toBe(2);
    expect(buffer.bufferedSamples).toBe(300 - 256);
  });

  it('plays silence when it runs dry and prebuffers again', () => {
    const buffer = new PlaybackBuffer(128);
    buffer.push(ones(128));
    const out = quantum();
    buffer.render(out);
    expect(buffer.isPlaying).toBe(false);
    buffer.push(ones(64));
    buffer.render(out);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('reports a mark once the audio before it has played', () => {
    const buffer = new PlaybackBuffer(128);
    buffer.push(ones(300));
    expect(buffer.mark('m1')).toEqual([]);
    const out = quantum();
    expect(buffer.render(out)).toEqual([]);
    expect(buffer.render(out)).toEqual([]);
    expect(buffer.render(out)).toEqual([{ type: 'mark', name: 'm1' }]); // 384 ≥ 300
  });

  it('a mark with nothing queued is reported at once', () => {
    expect(new PlaybackBuffer(128).mark('now')).toEqual([{ type: 'mark', name: 'now' }]);
  });

  it('plays the tail of an utterance shorter than the prebuffer once its mark came', () => {
    const buffer = new PlaybackBuffer(1000);
    buffer.push(ones(100));
    buffer.mark('end');
    const out = quantum();
    expect(buffer.render(out)).toEqual([{ type: 'mark', name: 'end' }]);
    expect(out[99]).toBe(1);
  });

  it('clear drops the queued audio and reports every pending mark', () => {
    const buffer = new PlaybackBuffer(128);
    buffer.push(ones(500));
    buffer.mark('a');
    buffer.push(ones(500));
    buffer.mark('b');
    expect(buffer.clear()).toEqual([{ type: 'cleared', marks: ['a', 'b'] }]);
    const out = quantum();
    expect(buffer.render(out)).toEqual([]);
    expect(out.every((v) => v === 0)).toBe(true);
    expect(buffer.bufferedSamples).toBe(0);
    buffer.push(ones(10));
    expect(buffer.mark('c')).toEqual([]);
  });
});
