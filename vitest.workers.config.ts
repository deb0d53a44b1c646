import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';

/**
 * The tests that run inside workerd (the edge worker's runtime), with the bindings of wrangler.toml and a
 * local R2 bucket. The root config runs this project beside the Node one.
 */
export default defineProject({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
    }),
  ],
  test: {
    name: 'workerd',
    include: ['test/workers/**/*.workerd.test.ts'],
    globalSetup: ['test/workers/origin-setup.ts'],
    // bloom-filters is CommonJS whose exports are getters: pre-bundled by esbuild, as wrangler bundles it
    // for deployment, its default import carries them (workerd's own CommonJS loading reads them too early).
    deps: { optimizer: { ssr: { enabled: true, include: ['bloom-filters'] } } },
  },
});
