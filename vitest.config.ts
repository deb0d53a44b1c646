import { configDefaults, defineConfig } from 'vitest/config';

// CI asks for a machine-readable summary through this variable (see .ci/run); people get the default output.
const report = process.env.TAKEDOWN_TEST_REPORT;

// Two projects in one `vitest run`: the Node tests, and the edge worker's tests inside workerd
// (vitest.workers.config.ts, files named *.workerd.test.ts).
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/**/*.workerd.test.ts'],
        },
      },
      './vitest.workers.config.ts',
    ],
  },
});
