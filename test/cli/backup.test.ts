import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type HubProcess, newTokenText, runCli, startHubProcess, tempDir } from '../helpers/hub.ts';

// The restore drill of docs/OPERATIONS.md: back up a hub's registry while orders keep arriving, start a hub
// on the copy, and find the chain intact at the version the backup reported.

const running: HubProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((hub) => hub.stop('SIGKILL')));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function post(hub: HubProcess, path: string, token: string, json: unknown) {
  const res = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(json),
  });
  return { status: res.status, body: await res.json() };
}

describe('takedown backup', () => {
  it('copies a serving registry consistently; a hub started on the copy passes audit verify at the same version', {
    timeout: 120_000,
  }, async () => {
    const dataDir = await tempDir('takedown-backup-');
    const restoreDir = await tempDir('takedown-restore-');
    dirs.push(dataDir, restoreDir);
    const admin = newTokenText();
    const hub = await startHubProcess({ dataDir, adminToken: admin });
    running.push(hub);
    const regulator = (await post(hub, '/v1/tokens', admin, { role: 'regulator', name: 'reg' })).body.token;

    let writing = true;
    let during = 0;
    let backupRunning = false;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const r = await post(hub, '/v1/orders', regulator, {
          reference: `drill-${i}`,
          authority: 'MIC',
          category: 'phishing',
          reason: 'restore drill',
          targets: Array.from({ length: 50 }, (_, j) => `d${i}-${j}.example`),
        });
        expect(r.status).toBe(201);
        if (backupRunning) during++;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const copy = join(restoreDir, 'takedown.db');
    backupRunning = true;
    const backup = await runCli(['backup', '--out', copy, '--data', dataDir]);
    backupRunning = false;
    writing = false;
    await writer;
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const version = Number(/registry version (\d+)/.exec(backup.stdout)?.[1]);
    expect(version).toBeGreaterThan(1);
    expect(during).toBeGreaterThan(0);

    const verify = await runCli(['audit', 'verify', '--data', restoreDir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`chain intact (registry version ${version})`);

    const restored = await startHubProcess({ dataDir: restoreDir });
    running.push(restored);
    const health = await (await fetch(`${restored.url}/healthz`)).json();
    expect(health.version).toBe(version);
    const audit = await fetch(`${restored.url}/v1/audit/verify`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(await audit.json()).toMatchObject({ ok: true });
  });

  it('refuses without --out, and names a missing registry', async () => {
    const empty = await tempDir('takedown-backup-');
    dirs.push(empty);
    const noOut = await runCli(['backup', '--data', empty]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out FILE is required');
    await mkdir(join(empty, 'x'));
    const missing = await runCli(['backup', '--out', join(empty, 'x', 'copy.db'), '--data', empty]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no registry at ${join(empty, 'takedown.db')}`);
  });
});
