import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type TestHub, testApp } from '../helpers/hub.ts';

// `takedown check`: the local registry's verdict on URLs and domains; exit 1 when any is blocked.

let t: TestHub;
beforeAll(async () => {
  t = await testApp();
  const json = {
    reference: '5167/BTTTT-CATTT',
    authority: 'Authority',
    category: 'phishing',
    targets: ['evil-bank.example', 'files.example.net/phish/login.php?id=7'],
  };
  expect((await t.call('POST', '/v1/orders', { as: 'regulator', json })).status).toBe(201);
});
afterAll(() => t.close());

const check = (...args: string[]) => runCli(['check', ...args, '--data', t.dataDir]);

describe('takedown check', () => {
  it('exits 1 and names the entry and order of each blocked target', async () => {
    const run = await check(
      'https://login.evil-bank.example/x',
      'http://files.example.net/phish/login.php?id=7',
      'http://files.example.net/other.html',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')).toEqual([
      'https://login.evil-bank.example/x\tBLOCKED\tevil-bank.example/ (5167/BTTTT-CATTT)',
      'http://files.example.net/phish/login.php?id=7\tBLOCKED\tfiles.example.net/phish/login.php?id=7 (5167/BTTTT-CATTT)',
      'http://files.example.net/other.html\tnot blocked',
      '',
    ]);
  });

  it('exits 0 when nothing is blocked, and says which targets are invalid', async () => {
    const run = await check('clean.example', 'ftp://evil-bank.example/');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^clean\.example\tnot blocked$/m);
    expect(run.stdout).toMatch(/^ftp:\/\/evil-bank\.example\/\tinvalid\tunsupported scheme/m);
  });

  it('prints one JSON object per target with --json', async () => {
    const run = await check('--json', 'EVIL-BANK.example', 'clean.example');
    expect(run.code).toBe(1);
    const [blocked, clean] = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(blocked).toMatchObject({
      target: 'EVIL-BANK.example',
      canonical: 'http://evil-bank.example/',
      blocked: true,
    });
    expect(blocked.matches[0].orders[0].reference).toBe('5167/BTTTT-CATTT');
    expect(clean).toEqual({
      target: 'clean.example',
      canonical: 'http://clean.example/',
      blocked: false,
      matches: [],
    });
  });

  it('refuses to run without a target (exit 2)', async () => {
    const run = await check();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/give at least one URL or domain/);
  });
});
