import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { zoneSerial } from '../../src/render/serial.ts';
import { dig, recordSet } from '../dns/dns-tools.ts';
import { type HubProcess, newTokenText, startHubProcess, tempDir } from '../helpers/hub.ts';

// `takedown serve --rpz-port`: the hub itself serves its dns feed as the RPZ zone, IXFR on each version,
// TSIG-signed transfers for ISPs that pull straight from the regulator.

const missing = missingTools(['dig']);
const KEY = { name: 'isp-a', secret: randomBytes(32).toString('base64') };

describe.skipIf(missing)('hub serving the RPZ zone over DNS', () => {
  let hub: HubProcess;
  let dataDir: string;
  let rpzPort: number;
  let regulator: string;
  const admin = newTokenText();

  beforeAll(async () => {
    dataDir = await tempDir();
    rpzPort = await freePort();
    hub = await startHubProcess({
      dataDir,
      adminToken: admin,
      args: ['--rpz-port', String(rpzPort)],
      env: { TAKEDOWN_RPZ_TSIG: `${KEY.name}:${KEY.secret}` },
    });
    const created = await post('/v1/tokens', admin, { role: 'regulator', name: 'mic' });
    regulator = created.token;
  });
  afterAll(async () => {
    await hub?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function post(path: string, token: string, body: unknown) {
    const res = await fetch(`${hub.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return res.json();
  }

  const signed = (...args: string[]) =>
    dig('@127.0.0.1', '-p', String(rpzPort), '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`, ...args);

  async function zoneHas(name: string): Promise<boolean> {
    const records = recordSet(await signed('rpz.takedown', 'AXFR'));
    return records.some((r) => r.startsWith(`${name}.rpz.takedown. `));
  }

  async function until(probe: () => Promise<boolean>, ms = 5000) {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('serves each order as a new SOA serial, the names and their sub-domains, and IXFR differences', async () => {
    const order = await post('/v1/orders', regulator, {
      reference: 'RPZ-1',
      authority: 'MIC',
      category: 'malware',
      targets: ['evil-rpz.example', 'http://page.example/only/this'],
    });
    await until(() => zoneHas('evil-rpz.example'));
    const axfr = recordSet(await signed('rpz.takedown', 'AXFR'));
    expect(axfr).toContain('evil-rpz.example.rpz.takedown. 60 IN CNAME .');
    expect(axfr).toContain('*.evil-rpz.example.rpz.takedown. 60 IN CNAME .');
    // DNS never blocks a whole host for one URL on it.
    expect(axfr.some((r) => r.includes('page.example'))).toBe(false);
    // The SOA serial is the registry version times SERIALS_PER_VERSION (src/render/serial.ts).
    const serial = zoneSerial(order.version as number);
    expect((await signed('+short', 'rpz.takedown', 'SOA')).split(' ')[2]).toBe(String(serial));

    await post(`/v1/orders/${order.order.id}/revoke`, regulator, { reason: 'lifted' });
    await until(async () => !(await zoneHas('evil-rpz.example')));
    const ixfr = await signed('rpz.takedown', `IXFR=${serial}`);
    // An IXFR answer (RFC 1995): SOA new, SOA old, deletions, SOA new, additions, SOA new.
    const soas = ixfr.split('\n').filter((l) => /\sSOA\s/.test(l));
    expect(soas.length).toBe(4);
    expect(ixfr).toContain('evil-rpz.example.rpz.takedown.');
  });

  it('refuses an unsigned transfer once TSIG keys are configured, and one with a wrong key', async () => {
    const unsigned = await dig('@127.0.0.1', '-p', String(rpzPort), 'rpz.takedown', 'AXFR');
    expect(unsigned).toMatch(/Transfer failed|REFUSED|NOTAUTH/);
    const wrong = await dig(
      '@127.0.0.1',
      '-p',
      String(rpzPort),
      '-y',
      `hmac-sha256:${KEY.name}:${randomBytes(32).toString('base64')}`,
      'rpz.takedown',
      'AXFR',
    ).catch((err: { stdout?: string }) => err.stdout ?? '');
    expect(wrong).not.toMatch(/\sCNAME\s/);
    expect(hub.output()).toMatch(/"event":"rpz_(refused|tsig)"/);
  });
});
