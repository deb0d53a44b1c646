/**
 * Node tooling, not part of the worker: the edge worker as it ships, bundled by `wrangler deploy --dry-run`
 * and started by Miniflare (workerd) with a local R2 bucket, for the end-to-end tests and the benchmark.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Miniflare } from 'miniflare';
import { unstable_readConfig } from 'wrangler';
import type { ArtifactBucket } from '../edge/feed-store.ts';
import { REPO_ROOT, WRANGLER, WRANGLER_ENV } from './wrangler-env.ts';

/**
 * Runs `wrangler deploy --dry-run --outdir OUT` on the repository's wrangler.toml (with another entry module
 * when `entry` is given); returns the bundle's path and wrangler's output.
 */
export async function bundleEdge(
  outDir: string,
  entry?: string,
): Promise<{ script: string; output: string }> {
  const args = ['deploy', ...(entry ? [entry] : []), '--dry-run', '--outdir', outDir];
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...WRANGLER_ENV },
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  // wrangler names the bundle after the entry module.
  const bundle = existsSync(outDir) ? readdirSync(outDir).find((f) => f.endsWith('.js')) : undefined;
  const script = join(outDir, bundle ?? 'index.js');
  if (code !== 0 || !existsSync(script))
    throw new Error(`wrangler deploy --dry-run failed (${code}):\n${output}`);
  return { script, output };
}

export interface EdgeRuntime {
  mf: Miniflare;
  /** Sends a request as a client of the proxied site would (the URL is the one the worker sees). */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Runs the cron handler once and waits for it. */
  scheduled(): Promise<void>;
  bucket(): Promise<ArtifactBucket>;
  dispose(): Promise<void>;
}

export interface RuntimeOptions {
  /** Keep the bucket in this directory, so a second runtime can share it (default: in memory). */
  persistDir?: string;
  /** Open an inspector (DevTools protocol) port, e.g. to read heap figures. */
  inspector?: boolean;
}

/**
 * Starts the bundle in workerd with wrangler.toml's compatibility settings, vars and bucket binding; `vars`
 * override its vars.
 */
export async function startEdgeRuntime(
  script: string,
  vars: Record<string, string>,
  options: RuntimeOptions = {},
): Promise<EdgeRuntime> {
  const config = unstable_readConfig({ config: join(REPO_ROOT, 'wrangler.toml') });
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    r2Buckets: config.r2_buckets.map((b: { binding: string }) => b.binding),
    r2Persist: options.persistDir ?? false,
    // wrangler.toml's [vars] first, as `wrangler dev` would, then the caller's.
    bindings: { ...(config.vars as Record<string, string>), ...vars },
    ...(options.inspector ? { inspectorPort: 0 } : {}),
  });
  await mf.ready;
  return {
    mf,
    fetch: (url, init) => mf.dispatchFetch(url, init as never) as unknown as Promise<Response>,
    async scheduled() {
      // Miniflare's Fetcher type comes from workers-types, which this project does not install.
      const worker = (await mf.getWorker()) as unknown as {
        scheduled(o: { cron: string }): Promise<unknown>;
      };
      await worker.scheduled({ cron: config.triggers.crons?.[0] ?? '* * * * *' });
    },
    bucket: async () => (await mf.getR2Bucket('FEED_BUCKET')) as unknown as ArtifactBucket,
    dispose: () => mf.dispose(),
  };
}
