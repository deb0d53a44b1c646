import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zoneSerial } from '../../src/render/serial.ts';
import { runCli, type TestHub, testApp } from '../helpers/hub.ts';

// `takedown export`: the active entries of the local registry as a resolver or proxy file, at one version.

let t: TestHub;
let version: number;
beforeAll(async () => {
  t = await testApp();
  const order = (category: string, targets: string[]) =>
    t.call('POST', '/v1/orders', {
      as: 'regulator',
      json: { reference: `EXP-${category}`, authority: 'Authority', category, targets },
    });
  expect((await order('malware', ['evil-export.example', 'http://page.example/dl/payload.exe'])).status).toBe(
    201,
  );
  const csam = await order('csam', ['hidden-export.example']);
  expect(csam.status).toBe(201);
  version = csam.body.version as number;
});
afterAll(() => t.close());

const exportTo = (name: string, ...args: string[]) =>
  runCli(['export', '--out', join(t.dataDir, name), '--data', t.dataDir, ...args]);

describe('takedown export', () => {
  it('writes the RPZ zone of the current version, leaving confidential categories out', async () => {
    const run = await exportTo('zone.rpz', '--format', 'rpz');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`version ${version}`);
    const zone = await readFile(join(t.dataDir, 'zone.rpz'), 'utf8');
    // The SOA serial is the version times SERIALS_PER_VERSION (src/render/serial.ts).
    expect(zone).toMatch(new RegExp(`SOA \\S+ \\S+ ${zoneSerial(version)} `));
    expect(zone).toContain('evil-export.example CNAME .');
    expect(zone).toContain('*.evil-export.example CNAME .');
    expect(zone).not.toContain('hidden-export');
    expect(zone).not.toContain('page.example');
  });

  it('includes confidential categories only when asked, and URL entries in the url feed', async () => {
    const run = await exportTo('all.hosts', '--format', 'hosts', '--include-confidential');
    expect(run.code).toBe(0);
    const hosts = await readFile(join(t.dataDir, 'all.hosts'), 'utf8');
    expect(hosts).toContain('0.0.0.0 hidden-export.example');
    const urls = await exportTo('urls.acl', '--format', 'squid-url', '--feed', 'url');
    expect(urls.code).toBe(0);
    expect(await readFile(join(t.dataDir, 'urls.acl'), 'utf8')).toContain('page\\.example');
  });

  it('refuses an unknown format or feed with a usage error', async () => {
    expect((await exportTo('x', '--format', 'bind')).code).toBe(2);
    expect((await exportTo('x', '--format', 'rpz', '--feed', 'filter')).code).toBe(2);
  });
});
