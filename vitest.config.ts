import { defineConfig } from 'vitest/config';

// CI asks for a machine-readable summary through this variable (see .ci/run); people get the default output.
const report = process.env.TAKEDOWN_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});
