// Preloaded into the WhatsApp gateway by bench/whatsapp_bench.py (node --expose-gc --import):
// on SIGUSR2 it runs a full garbage collection and writes process.memoryUsage() with a counter
// to $BENCH_GC_REPORT, so the benchmark reads the resident size after a forced GC without a
// route of its own in the gateway.
import fs from 'node:fs';

let count = 0;
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') { globalThis.gc(); globalThis.gc(); }
  count += 1;
  const report = process.env.BENCH_GC_REPORT;
  if (report) fs.writeFileSync(report, JSON.stringify({ count, gc: typeof globalThis.gc === 'function', ...process.memoryUsage() }));
});
