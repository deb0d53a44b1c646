/**
 * Deploy readiness: `wrangler deploy --dry-run` bundles the worker from wrangler.toml, and the bundle runs in
 * workerd. With wrangler.toml's placeholder settings (no trusted key yet) it refuses its configuration and
 * fails closed, as an operator who deploys before configuring would see.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEdge, type EdgeRuntime, startEdgeRuntime } from '../../workers/tools/runtime.ts';

let dir: string;
let bundle: { script: string; output: string };
let edge: EdgeRuntime;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'takedown-edge-deploy-'));
  bundle = await bundleEdge(join(dir, 'dist'));
  edge = await startEdgeRuntime(bundle.script, {});
}, 120_000);

afterAll(async () => {
  await edge?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('wrangler deploy --dry-run', () => {
  it('bundles the worker with the bucket binding and the vars of wrangler.toml', () => {
    expect(bundle.output).toContain('--dry-run: exiting now');
    for (const name of [
      'env.FEED_BUCKET',
      'env.HUB_URL',
      'env.TRUSTED_KEYS',
      'env.FAIL_MODE',
      'env.BLOCKED_BY',
    ]) {
      expect(bundle.output).toContain(name);
    }
  });

  it('runs in workerd and fails closed until TRUSTED_KEYS is set', async () => {
    const r = await edge.fetch('https://any.example/');
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ error: { code: 'feed_unavailable' } });
    const status = await (await edge.fetch('https://any.example/.takedown/status')).json();
    expect(status).toMatchObject({ failMode: 'closed', version: null, configError: { code: 'bad_config' } });
    expect(status.configError.message).toMatch(/TRUSTED_KEYS/);
  });
});
