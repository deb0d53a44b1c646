import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, runCli, type TestHub, testApp } from '../helpers/hub.ts';

// `takedown token create|list|revoke` on the data directory of a hub that is running meanwhile.

let t: TestHub;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

const token = (...args: string[]) => runCli(['token', ...args, '--data', t.dataDir]);
const succeeded = (run: CliRun) =>
  expect({ stderr: run.stderr, code: run.code }).toEqual({ stderr: '', code: 0 });

describe('takedown token', () => {
  it('creates a token that the running hub accepts at once, then revokes it', async () => {
    const created = await token('create', '--role', 'auditor', '--name', 'ops-laptop');
    succeeded(created);
    const text = created.stdout.trim();
    expect(text).toMatch(/^tdk_[A-Za-z0-9_-]{43}$/);
    expect((await t.call('GET', '/v1/audit/verify', { token: text })).status).toBe(200);
    expect(
      (await t.call('POST', '/v1/tokens', { token: text, json: { role: 'admin', name: 'x' } })).status,
    ).toBe(403);

    const listed = await token('list', '--json');
    succeeded(listed);
    const tokens = JSON.parse(listed.stdout) as Array<{
      id: number;
      name: string;
      role: string;
      revokedAt: string | null;
    }>;
    const mine = tokens.find((x) => x.name === 'ops-laptop');
    expect(mine).toMatchObject({ role: 'auditor', revokedAt: null });
    expect(listed.stdout).not.toContain(text);

    const revoked = await token('revoke', String(mine?.id));
    succeeded(revoked);
    expect(revoked.stdout).toBe(`revoked token ${mine?.id} (ops-laptop)\n`);
    expect((await t.call('GET', '/v1/audit/verify', { token: text })).status).toBe(401);

    const again = await token('revoke', String(mine?.id));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already revoked/);
  });

  it('prints JSON on create with --json, and a table on list', async () => {
    const created = await token('create', '--role', 'distributor', '--name', 'isp-7', '--json');
    succeeded(created);
    const value = JSON.parse(created.stdout);
    expect(value).toEqual({
      id: expect.any(Number),
      token: expect.stringMatching(/^tdk_/),
      role: 'distributor',
    });
    const listed = await token('list');
    succeeded(listed);
    expect(listed.stdout.split('\n')).toContain(`${value.id}\tdistributor\tisp-7\tactive`);
    expect(listed.stdout.split('\n')[0]).toBe('1\tadmin\tfirst-admin\tactive');
  });

  it.each([
    [
      ['create', '--role', 'root', '--name', 'x'],
      /--role must be one of admin, regulator, auditor, distributor/,
    ],
    [['create', '--role', 'admin'], /--name is required/],
    [['revoke', 'abc'], /numeric token ID/],
    [['rotate'], /expected create, list or revoke/],
  ])('refuses %j with exit 2 and the usage', async (args, message) => {
    const run = await token(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/usage: takedown token/);
  });

  it('answers exit 1 for a token that does not exist', async () => {
    const run = await token('revoke', '999');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/token 999 does not exist/);
  });
});
