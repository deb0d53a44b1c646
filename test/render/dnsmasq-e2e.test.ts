import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../bench/lib/resolvers/daemon.ts';
import { startDnsmasq } from '../../bench/lib/resolvers/dnsmasq.ts';
import {
  authZoneSnippet,
  INTERNET_ZONE,
  missingTools,
  queryDns,
  type RunningUnbound,
  startUnbound,
} from '../../bench/lib/resolvers/unbound.ts';
import { applyOutput } from '../../src/agent/apply-output.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import { resolveRenderOptions } from '../../src/render/index.ts';
import { domain } from './fixtures.ts';

// dnsmasq forwards to a real Unbound (the "internet": every name under test. is 192.0.2.99) and
// answers from the rendered servers-file, which it re-reads on SIGHUP.

const options = resolveRenderOptions();

const missing = missingTools(['dnsmasq'], { requiredInCi: false }) ?? missingTools(['unbound']);

describe.skipIf(missing)('the dnsmasq output with a real dnsmasq', () => {
  let dir: string;
  let upstream: RunningUnbound;
  let dnsmasq: Daemon;
  let port: number;
  let path: string;

  const answer = async (name: string) => {
    const response = await queryDns(port, name, 'A');
    return [response.status, ...response.answers.map((a) => a.data)].join(' ');
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'render-dnsmasq-'));
    await writeFile(join(dir, 'test.zone'), INTERNET_ZONE);
    upstream = await startUnbound([
      'server:\n  local-zone: "test." nodefault\n',
      authZoneSnippet('test.', join(dir, 'test.zone')),
    ]);
    path = join(dir, 'takedown.servers');
    await renderToFile(path, 'dnsmasq', [domain('blocked.test'), domain('casino.test', 'redirect')], {
      version: 1,
      options,
    });
    ({ port, daemon: dnsmasq } = await startDnsmasq({ dir, upstreamPort: upstream.port, serversFile: path }));
  });

  afterAll(async () => {
    await dnsmasq?.stop();
    await upstream?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers NXDOMAIN for a listed name and its sub-domains and forwards the rest', async () => {
    expect(await answer('blocked.test')).toBe('NXDOMAIN');
    expect(await answer('a.b.blocked.test')).toBe('NXDOMAIN');
    expect(await answer('casino.test')).toBe('NXDOMAIN');
    expect(await answer('ok.test')).toBe('NOERROR 192.0.2.99');
  });

  it('re-reads a re-rendered servers-file on SIGHUP', async () => {
    const spec = { format: 'dnsmasq' as const, path, reload: `kill -HUP ${dnsmasq.child.pid}` };
    const result = await applyOutput(spec, [domain('new.test')], { version: 2, options });
    expect(result.ok).toBe(true);
    const deadline = Date.now() + 10_000;
    while ((await answer('blocked.test')) !== 'NOERROR 192.0.2.99' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await answer('blocked.test')).toBe('NOERROR 192.0.2.99');
    expect(await answer('www.new.test')).toBe('NXDOMAIN');
  });
});
