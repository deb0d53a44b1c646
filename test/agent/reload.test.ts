import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyOutput } from '../../src/agent/apply-output.ts';
import { runReload } from '../../src/agent/reload.ts';
import { resolveRenderOptions } from '../../src/render/index.ts';
import { restorePrevious } from '../../src/util/atomic-file.ts';
import { domain } from '../render/fixtures.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reload-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

describe('runReload', () => {
  it('reports success with what the command said on stderr', async () => {
    const result = await runReload('echo reloading >&2; exit 0');
    expect(result).toMatchObject({
      ok: true,
      value: { command: 'echo reloading >&2; exit 0', stderr: 'reloading' },
    });
  });

  it('reports a failing command with its status and stderr', async () => {
    const result = await runReload('echo "error: cannot connect to 127.0.0.1@8953" >&2; exit 3');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({
      code: 'reload_failed',
      exitCode: 3,
      signal: null,
      stderr: 'error: cannot connect to 127.0.0.1@8953',
    });
    expect(result.error.message).toMatch(/exited with status 3/);
  });

  it('reports a missing program as a failure, not an exception', async () => {
    const result = await runReload('takedown-no-such-program reload');
    expect(result).toMatchObject({ ok: false, error: { code: 'reload_failed', exitCode: 127 } });
  });

  it('kills the command and everything it started on timeout', async () => {
    const pidFile = join(dir, 'child.pid');
    const result = await runReload(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, error: { code: 'reload_timeout' } });
    const child = Number(await readFile(pidFile, 'utf8'));
    expect(await until(() => !alive(child))).toBe(true);
  });

  it('escalates to SIGKILL when the command ignores SIGTERM', async () => {
    const result = await runReload(`trap '' TERM; while :; do sleep 0.05; done`, {
      timeoutMs: 200,
      killGraceMs: 200,
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'reload_timeout' } });
  });

  it('does not wait for a daemon the command left holding stderr', async () => {
    const pidFile = join(dir, 'daemon.pid');
    const result = await runReload(`sleep 20 & echo $! > ${pidFile}; exit 0`, { timeoutMs: 10_000 });
    const daemon = Number(await readFile(pidFile, 'utf8'));
    try {
      expect(result.ok).toBe(true);
      expect(alive(daemon)).toBe(true);
    } finally {
      process.kill(daemon, 'SIGTERM');
    }
  });
});

describe('applyOutput', () => {
  const context = { version: 1, options: resolveRenderOptions() };
  const entries = (...names: string[]) => names.map((name) => domain(name));

  it('keeps the confirmed file as PATH.prev while reloads fail, and drops it after a success', async () => {
    const path = join(dir, 'blocklist.conf');
    const first = await applyOutput(
      { format: 'unbound', path, reload: 'true' },
      entries('v1.example'),
      context,
    );
    expect(first.ok).toBe(true);
    expect(await readdir(dir)).toEqual(['blocklist.conf']);

    const failing = { format: 'unbound' as const, path, reload: 'echo "unbound is down" >&2; exit 1' };
    const second = await applyOutput(failing, entries('v2.example'), context);
    expect(second).toMatchObject({
      ok: false,
      error: { code: 'reload_failed', path, stderr: 'unbound is down' },
    });
    expect(await readFile(path, 'utf8')).toMatch(/v2\.example/);
    expect(await readFile(`${path}.prev`, 'utf8')).toMatch(/v1\.example/);

    await applyOutput(failing, entries('v3.example'), context);
    expect(await readFile(`${path}.prev`, 'utf8')).toMatch(/v1\.example/);
    expect(await restorePrevious(path)).toBe(true);
    expect(await readFile(path, 'utf8')).toMatch(/v1\.example/);

    const fourth = await applyOutput(
      { format: 'unbound', path, reload: 'true' },
      entries('v4.example'),
      context,
    );
    expect(fourth).toMatchObject({ ok: true, value: { format: 'unbound', path, stats: { rendered: 1 } } });
    expect(await readdir(dir)).toEqual(['blocklist.conf']);
  });

  it('reports a render failure with the path and leaves the old file', async () => {
    const path = join(dir, 'missing-dir', 'hosts');
    const result = await applyOutput({ format: 'hosts', path }, entries('a.example'), context);
    expect(result).toMatchObject({ ok: false, error: { code: 'render_failed', path } });
    const existing = join(dir, 'hosts');
    await writeFile(existing, 'old\n');
    const broken = await applyOutput({ format: 'rpz', path: existing }, entries('a.example'), {
      ...context,
      version: -1,
    });
    expect(broken).toMatchObject({ ok: false, error: { code: 'render_failed' } });
    expect(await readFile(existing, 'utf8')).toBe('old\n');
  });
});
