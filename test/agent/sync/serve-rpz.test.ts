import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  authZoneSnippet,
  freePort,
  missingTools,
  type RunningUnbound,
  startUnbound,
} from '../../../bench/lib/resolvers/unbound.ts';
import { SyncAgent } from '../../../src/agent/sync/sync-agent.ts';
import { type ServedZone, serveZone } from '../../../src/dns/zone-feed.ts';
import { type Harness, harness } from './agent-harness.ts';
import { domain } from './fake-hub.ts';
import { answersWithin, INTERNET_ADDRESS } from './live-setup.ts';

// `--serve-rpz`: the agent as the RPZ primary of a real Unbound, which transfers each applied version
// (AXFR, then IXFR after NOTIFY) instead of reloading a file.

describe.skipIf(missingTools(['unbound', 'unbound-checkconf']))('the agent serving its policy zone', () => {
  let h: Harness;
  let zone: ServedZone | undefined;
  let unbound: RunningUnbound | undefined;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await zone?.close();
    await unbound?.stop();
    await h.close();
  });

  it('is transferred by Unbound after each apply', async () => {
    const primaryPort = await freePort();
    const internet = join(h.dir, 'internet.zone');
    await writeFile(
      internet,
      `$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n* A ${INTERNET_ADDRESS}\n`,
    );
    unbound = await startUnbound(
      [
        'server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n',
        authZoneSnippet('test.', internet),
        `rpz:\n  name: "rpz.takedown."\n  primary: 127.0.0.1@${primaryPort}\n  allow-notify: 127.0.0.1\n`,
      ],
      { control: false },
    );
    const config = h.config({
      output: [],
      'serve-rpz': `127.0.0.1:${primaryPort}`,
      notify: [`127.0.0.1:${unbound.port}`],
    });
    zone = await serveZone({
      host: '127.0.0.1',
      port: primaryPort,
      render: config.render,
      notify: config.notify,
      log: () => {},
    });
    const agent = await SyncAgent.open({ config, pinned: h.pinned, log: () => {}, zone });

    h.hub.publish([domain('blocked.test'), domain('kept.test')]);
    expect(await agent.syncOnce()).toBe(true);
    expect(await answersWithin(unbound, 'www.blocked.test', 'NXDOMAIN', 15_000)).toBe(true);

    h.hub.publish([domain('kept.test'), domain('new.test')]);
    expect(await agent.poll(0)).toMatchObject({ status: 'applied', version: 2 });
    expect(await answersWithin(unbound, 'new.test', 'NXDOMAIN', 15_000)).toBe(true);
    expect((await unbound.query('kept.test')).status).toBe('NXDOMAIN');
    expect(await unbound.query('blocked.test')).toMatchObject({
      status: 'NOERROR',
      answers: [{ data: INTERNET_ADDRESS }],
    });
  });
});
