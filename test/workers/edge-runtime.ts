/**
 * The edge worker as it ships: bundled by `wrangler deploy --dry-run` and started by Miniflare (workerd)
 * with a local R2 bucket, for the end-to-end tests and the benchmark.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { unstable_readConfig } from 'wrangler';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WRANGLER = join(REPO_ROOT, 'node_modules/wrangler/bin/wrangler.js');

/** Quiet, offline wrangler. */
export const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
};

/** Runs `wrangler deploy --dry-run --outdir OUT` on the repository's wrangler.toml; returns the bundle's path. */
export async function bundleEdge(outDir: string): Promise<{ script: string; output: string }> {
  const child = spawn(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', outDir], {
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
  const script = join(outDir, 'index.js');
  if (code !== 0 || !existsSync(script)) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${output}`);
  return { script, output };
}

export interface EdgeRuntime {
  mf: Miniflare;
  /** Sends a request as a client of the proxied site would (the URL is the one the worker sees). */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Runs the cron handler once and waits for it. */
  scheduled(): Promise<void>;
  bucket(): ReturnType<Miniflare['getR2Bucket']>;
  dispose(): Promise<void>;
}

/**
 * Starts the bundle in workerd with wrangler.toml's compatibility settings, the FEED_BUCKET binding (kept in
 * `persistDir` when given, so a second runtime can share it) and `vars` as its environment.
 */
export async function startEdgeRuntime(
  script: string,
  vars: Record<string, string>,
  persistDir?: string,
): Promise<EdgeRuntime> {
  const config = unstable_readConfig({ config: join(REPO_ROOT, 'wrangler.toml') });
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    r2Buckets: config.r2_buckets.map((b: { binding: string }) => b.binding),
    r2Persist: persistDir ?? false,
    bindings: vars,
  });
  await mf.ready;
  return {
    mf,
    fetch: (url, init) => mf.dispatchFetch(url, init as never) as unknown as Promise<Response>,
    async scheduled() {
      // Miniflare's Fetcher type comes from workers-types, which this project does not install.
      const worker = (await mf.getWorker()) as unknown as { scheduled(o: { cron: string }): Promise<unknown> };
      await worker.scheduled({ cron: config.triggers.crons?.[0] ?? '* * * * *' });
    },
    bucket: () => mf.getR2Bucket('FEED_BUCKET'),
    dispose: () => mf.dispose(),
  };
}
