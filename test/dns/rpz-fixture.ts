import { randomBytes } from 'node:crypto';
import type { FeedEntry } from '../../src/core/types.ts';
import { DEFAULT_NOTIFY_RETRY, Notifier } from '../../src/dns/notify.ts';
import { createRpzPrimary, type RpzPrimary } from '../../src/dns/primary.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';

// The set-up the tests with real resolvers share: our primary NOTIFYing them, and BIND as a TSIG-signed
// secondary that applies rpz.takedown as its response policy.

/** A fresh TSIG key for one test file's transfers. */
export const newTransferKey = () => ({
  name: 'xfr-key',
  algorithm: 'hmac-sha256' as const,
  secret: randomBytes(32).toString('base64'),
});

export type TransferKey = ReturnType<typeof newTransferKey>;

/** BIND's `key` clause of `key`. */
export const bindKeyClause = (key: TransferKey) =>
  `key "${key.name}" { algorithm hmac-sha256; secret "${key.secret}"; };`;

/** BIND options of a recursive resolver that applies rpz.takedown as soon as a transfer ends. */
export const BIND_RPZ_OPTIONS = `  recursion yes; allow-recursion { 127.0.0.1; }; notify no;
  response-policy { zone "rpz.takedown"; } qname-wait-recurse no break-dnssec yes min-update-interval 0;`;

/**
 * named.conf clauses of a signed secondary of rpz.takedown from our primary on `primaryPort`, and of the
 * `test.` zone that stands for the internet; `zoneExtra` goes inside the rpz.takedown clause.
 */
export const bindRpzSecondary = (
  key: TransferKey,
  primaryPort: number,
  zoneExtra = '',
) => `${bindKeyClause(key)}
server 127.0.0.1 { keys { "${key.name}"; }; };
zone "rpz.takedown" { type secondary; primaries { 127.0.0.1 port ${primaryPort}; }; file "rpz.takedown.db"; allow-query { localhost; };${zoneExtra} };
zone "test" { type primary; file "test.zone"; };`;

/** Our primary serving `state` on 127.0.0.1:`port` to signed and loopback transfers, NOTIFYing `notifyPorts`. */
export async function notifyingPrimary(
  state: { entries: FeedEntry[]; version: number },
  key: TransferKey,
  port: number,
  notifyPorts: readonly number[],
  events: DnsLogEvent[],
): Promise<RpzPrimary> {
  const primary = createRpzPrimary({
    entries: () => state.entries,
    version: () => state.version,
    tsigKeys: [key],
    allowTransfer: ['127.0.0.1'],
    notify: notifyPorts.map((p) => ({ host: '127.0.0.1', port: p })),
    log: (event) => events.push(event),
  });
  await primary.listen('127.0.0.1', port);
  return primary;
}

/** NOTIFYs the resolver on 127.0.0.1:`port` of rpz.takedown at `serial`, as a primary would, until `done`. */
export async function notifyUntil(port: number, serial: number, done: () => Promise<unknown>): Promise<void> {
  const notifier = new Notifier(
    'rpz.takedown.',
    [{ host: '127.0.0.1', port }],
    new Map(),
    DEFAULT_NOTIFY_RETRY,
    () => {},
  );
  await notifier.open('127.0.0.1');
  try {
    notifier.notify({
      name: 'rpz.takedown',
      type: 'SOA',
      ttl: 60,
      data: { mname: 'localhost', rname: 'hostmaster.localhost', serial },
    });
    await done();
  } finally {
    await notifier.close();
  }
}
