import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningNamed, startNamed } from '../../bench/lib/resolvers/bind.ts';
import {
  authZoneSnippet,
  freePort,
  INTERNET_ZONE,
  missingTools,
  type RunningUnbound,
  startUnbound,
} from '../../bench/lib/resolvers/unbound.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { createRpzPrimary, type RpzPrimary } from '../../src/dns/primary.ts';
import { resolveRenderOptions } from '../../src/render/options.ts';
import { compileZone, dig, domainEntry, poll, recordSet, sampleEntries, sortEntries } from './dns-tools.ts';
import { bindKeyClause, newTransferKey } from './rpz-fixture.ts';

// Compressed AXFR messages read by the real programs: dig and BIND (a TSIG-signed secondary) must end
// with exactly the zone the file renderer writes, and Unbound must enforce it, on a zone made to
// stress compression: names of 255 bytes on the wire, 63-byte labels, thousands of siblings sharing
// a long parent, several records per owner, and several messages.

const KEY = newTransferKey();
const render = { walledGardenAddresses: ['192.0.2.1', '2001:db8::1'] };
const VERSION = 9;

const parent = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.test`;
/** 240 bytes: with `.rpz.takedown.` the longest owner name there is (255 bytes on the wire). */
const longest = `${'d'.repeat(43)}.${parent}`;
/** 238 bytes: its wildcard is the longest owner name. */
const wildcarded = `${'e'.repeat(41)}.${parent}`;

function entries(): FeedEntry[] {
  return sortEntries([
    ...sampleEntries(),
    domainEntry(longest),
    domainEntry(wildcarded),
    domainEntry(`${'f'.repeat(63)}.test`),
    domainEntry('casino.test', 'redirect'),
    ...Array.from({ length: 3_000 }, (_, i) => domainEntry(`host-${i}.sub.example-with-a-long-name.test`)),
  ]);
}

describe.skipIf(
  missingTools(['dig', 'named', 'named-checkconf', 'named-compilezone', 'unbound', 'unbound-checkconf']),
)('compressed AXFR read by dig, BIND and Unbound', () => {
  let dir: string;
  let primary: RpzPrimary;
  let named: RunningNamed;
  let unbound: RunningUnbound;
  let rendered: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpz-axfr-compressed-'));
    const zone = entries();
    await writeFile(join(dir, 'test.zone'), INTERNET_ZONE);
    await renderToFile(join(dir, 'rpz.zone'), 'rpz', zone, {
      version: VERSION,
      options: resolveRenderOptions(render),
    });
    rendered = recordSet(await compileZone('rpz.takedown', join(dir, 'rpz.zone')));
    primary = createRpzPrimary({
      render,
      entries: () => zone,
      version: () => VERSION,
      tsigKeys: [KEY],
      allowTransfer: ['127.0.0.1'],
    });
    const { port } = await primary.listen('127.0.0.1', await freePort());
    named = await startNamed({
      options: '  recursion no; notify no;',
      clauses: `${bindKeyClause(KEY)}
server 127.0.0.1 { keys { "${KEY.name}"; }; };
zone "rpz.takedown" { type secondary; primaries { 127.0.0.1 port ${port}; }; file "rpz.takedown.db"; allow-transfer { 127.0.0.1; }; };`,
    });
    unbound = await startUnbound([
      `server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n`,
      authZoneSnippet('test.', join(dir, 'test.zone')),
      `rpz:\n  name: "rpz.takedown."\n  primary: 127.0.0.1@${port}\n`,
    ]);
  });
  afterAll(async () => {
    await Promise.all([named?.stop(), unbound?.stop(), primary?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('dig reads the same records over several messages as named-compilezone reads from the file', async () => {
    const port = String(primary.address?.port);
    const output = await dig('@127.0.0.1', '-p', port, '+tcp', 'rpz.takedown', 'AXFR');
    const messages = Number(/messages (\d+)/.exec(output)?.[1]);
    expect(messages).toBeGreaterThan(3);
    expect(recordSet(output)).toEqual(rendered);
    expect(rendered.some((line) => line.startsWith(`${longest}.rpz.takedown. `))).toBe(true);
    expect(rendered.some((line) => line.startsWith(`*.${wildcarded}.rpz.takedown. `))).toBe(true);
  });

  it('BIND transfers it as a TSIG-signed secondary and serves the identical zone', async () => {
    await named.waitForLog(/rpz\.takedown\/IN: transferred serial/, 20_000);
    expect(named.log()).not.toMatch(/bad compression|unexpected end|FORMERR|failed while receiving/i);
    const output = await dig('@127.0.0.1', '-p', String(named.port), 'rpz.takedown', 'AXFR');
    expect(recordSet(output)).toEqual(rendered);
  });

  it('Unbound loads it from the primary and enforces the longest names, wildcards and redirects', async () => {
    const ask = async (name: string) => {
      const response = await unbound.query(name).catch(() => ({ status: 'TIMEOUT', answers: [] }));
      return [response.status, ...response.answers.map((answer) => answer.data)].join(' ');
    };
    expect(await poll(() => ask(longest), 'NXDOMAIN', 30_000)).toBe('NXDOMAIN');
    expect(await ask(`x.${wildcarded}`)).toBe('NXDOMAIN');
    expect(await ask(`www.host-2999.sub.example-with-a-long-name.test`)).toBe('NXDOMAIN');
    expect(await ask(`www.${'f'.repeat(63)}.test`)).toBe('NXDOMAIN');
    expect(await ask('casino.test')).toBe('NOERROR 192.0.2.1');
    expect(await ask(`x.${longest.slice(2)}`)).toBe('NOERROR 192.0.2.99');
  });
});
