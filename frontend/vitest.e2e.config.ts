// The end-to-end suite (frontend/e2e/*.spec.ts): Node drives Debian's Chromium through
// playwright-core against a running stack (tests/e2e/test_spa.py starts it and sets BASE_URL &c.).
// One file at a time, in name order: the specs share one stack and its data.
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

class ByName extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return Promise.resolve([...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId)));
  }
}

export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.spec.ts'],
    fileParallelism: false,
    sequence: { concurrent: false, sequencer: ByName },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['verbose'],
    // Vitest sets BASE_URL to Vite's base ("/") inside the tests: hand the stack's on under another name.
    env: { E2E_BASE_URL: process.env.BASE_URL ?? '' },
  },
});
