import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../../helpers/hub.ts';
import { type Harness, harness, until } from './agent-harness.ts';
import { domain, manyDomains } from './fake-hub.ts';

// `takedown sync` as a real process against the fake hub.

const CLI_MAIN = join(REPO_ROOT, 'src/cli/main.ts');

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const args = (...extra: string[]) => [
  'sync',
  '--hub',
  h.hub.url,
  '--feed',
  'dns',
  '--key',
  h.keyFile,
  '--state',
  join(h.dir, 'state'),
  '--output',
  `rpz=${h.rpzPath}`,
  ...extra,
];
const env = () => ({ TAKEDOWN_TOKEN: 'tdk_test' });

/** The last line of a rendered file: `; end: N entries, ..., registry version V`. */
async function endOf(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').at(-1) ?? '';
}

function spawnSync(argv: string[]): {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...argv], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env() },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

describe('takedown sync', () => {
  it('--once renders, reports and exits 0; exits 1 when the hub cannot be reached', async () => {
    h.hub.publish([domain('blocked.test')]);
    const first = await runCli(args('--once'), { env: env() });
    expect(first.code).toBe(0);
    expect(await endOf(h.rpzPath)).toBe('; end: 1 entries, 0 skipped, registry version 1');
    expect(h.hub.reports).toHaveLength(1);
    const events = first.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event);
    expect(events).toEqual(expect.arrayContaining(['started', 'applied', 'output_applied', 'reported']));

    await h.hub.close();
    const offline = await runCli(args('--once'), { env: env() });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('"event":"fetch_failed"');
  });

  it('reads the same keys from a --config file, flags winning', async () => {
    h.hub.publish([domain('blocked.test')]);
    const config = join(h.dir, 'sync.json');
    await writeFile(
      config,
      JSON.stringify({
        hub: 'http://127.0.0.1:9/',
        feed: 'dns',
        key: 'hub.pub',
        state: 'state',
        output: ['hosts=out/hosts'],
        once: true,
      }),
    );
    const run = await runCli(['sync', '--config', config, '--hub', h.hub.url], { env: env() });
    expect(run.code).toBe(0);
    expect(await endOf(h.hostsPath)).toBe('# end: 1 entries, 0 skipped, registry version 1');
  });

  it('refuses a configuration that cannot work, with exit code 2', async () => {
    const run = await runCli(args('--reload', 'a', '--reload', 'b'), { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('2 --reload for 1 --output');
    const noToken = await runCli(args('--once'));
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('missing --token');
  });

  it('reads the JSON of GET /v1/keys as a key file; a key file it cannot read is one clear line', async () => {
    h.hub.publish([domain('blocked.test')]);
    const raw = (await readFile(h.keyFile, 'utf8')).trim();
    const json = join(h.dir, 'keys.json');
    await writeFile(json, JSON.stringify({ keys: [{ id: h.pinned[0]?.id, publicKey: raw }] }));
    const withJson = await runCli([...args('--once'), '--key', json], { env: env() });
    expect(withJson.code, withJson.stderr).toBe(0);

    await writeFile(json, '{"keys": "nope"}');
    const bad = await runCli([...args('--once'), '--key', json], { env: env() });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `takedown sync: --key ${json}: JSON keys must be the answer of GET /v1/keys: {"keys": [{"id", "publicKey"}, ...]}`,
    );
  });

  it('refuses a hub URL that already holds /v1, naming the base URL to give', async () => {
    const run = await runCli([...args('--once'), '--hub', `${h.hub.url}/v1`], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--hub ${h.hub.url}/v1: give the hub's base URL without /v1, e.g. ${h.hub.url}/`,
    );
    expect(h.hub.requests).toEqual([]);
  });

  it('serves its metrics and stops cleanly on SIGTERM', async () => {
    h.hub.publish([domain('blocked.test')]);
    const agent = spawnSync(args('--metrics-port', '0', '--wait', '1'));
    try {
      await until(() => agent.stderr().includes('"event":"reported"'), 'the first report');
      const url = /"url":"(http:[^"]+)"/.exec(agent.stderr())?.[1] as string;
      const text = await (await fetch(url)).text();
      expect(text).toMatch(/^takedown_sync_applied_version 1$/m);
      expect(text).toMatch(/^takedown_sync_entries 1$/m);
      expect(text).toContain('# TYPE takedown_sync_rejections_total counter');
    } finally {
      agent.child.kill('SIGTERM');
    }
    expect(await agent.exited).toBe(0);
  });

  it("refuses a second agent on the same state directory, naming the first one; takes over a dead one's lock", async () => {
    h.hub.publish([domain('blocked.test')]);
    const first = spawnSync(args('--wait', '1'));
    try {
      await until(() => first.stderr().includes('"event":"reported"'), 'the first agent to report');
      const second = await runCli(args('--once'), { env: env() });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`is in use by another takedown sync (pid ${first.child.pid})`);
      expect(second.stderr).not.toContain('"event":"applied"');
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);
    await expect(readFile(join(h.dir, 'state', 'lock'), 'utf8')).rejects.toThrow('ENOENT');

    // A lock left by a process that no longer exists.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(join(h.dir, 'state', 'lock'), `${dead.pid}\n`);
    const next = await runCli(args('--once'), { env: env() });
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`"event":"stale_lock_taken_over"`);
    expect(next.stderr).toContain(`"pid":${dead.pid}`);
  });

  it('killed with SIGKILL during a large apply leaves the old file whole; the next start finishes the job', async () => {
    h.hub.publish(manyDomains(50));
    expect((await runCli(args('--once'), { env: env() })).code).toBe(0);
    const before = await readFile(h.rpzPath, 'utf8');

    h.hub.publish(manyDomains(200_000));
    const agent = spawnSync(args('--once'));
    const tmpName = (names: string[]) =>
      names.find((n) => n.startsWith('.takedown.rpz.') && n.endsWith('.tmp'));
    let seen = false;
    while (!seen && agent.child.exitCode === null) {
      seen = tmpName(await readdir(join(h.dir, 'out'))) !== undefined;
    }
    expect(seen, `the agent exited before rendering: ${agent.stderr()}`).toBe(true);
    agent.child.kill('SIGKILL');
    await agent.exited;
    expect(await readFile(h.rpzPath, 'utf8')).toBe(before);

    // The state was saved before rendering began: with the hub gone, the next start renders it.
    await h.hub.close();
    const next = await runCli(args('--once'), { env: env() });
    expect(next.code).toBe(1);
    expect(next.stderr).toContain('"event":"restore"');
    expect(await endOf(h.rpzPath)).toBe('; end: 200000 entries, 0 skipped, registry version 2');
    expect(tmpName(await readdir(join(h.dir, 'out')))).toBeUndefined();
  });
});
