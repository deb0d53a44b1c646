import { readFile, writeFile } from 'node:fs/promises';
import { decodeArtifact, type Manifest } from '../core/artifact.ts';
import { HubClient, USER_AGENT } from '../core/hub-client.ts';
import { parsePublicKeys } from '../core/keys.ts';
import { decodeDelta } from '../core/plain-payload.ts';
import { PlainState } from '../core/plain-state.ts';
import { DEFAULT_MAX_BYTES, verifyArtifact } from '../core/verify.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

export const feed: Command = {
  name: 'feed',
  summary: 'debug a feed: fetch a delta (or the snapshot) from the hub and print its manifest and changes',
  usage:
    'feed pull --feed dns|url --since VERSION [--hub URL] [--token TOKEN] [--key PUBLIC_KEY_FILE]\n' +
    '          [--wait S] [--save FILE]\n' +
    '  Without --since: the latest snapshot and its entries. --key checks every consumer rule\n' +
    '  (with --since as the applied version); --save writes the artifact bytes as received.\n' +
    '  environment: TAKEDOWN_HUB, TAKEDOWN_TOKEN',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        feed: { type: 'string' },
        since: { type: 'string' },
        hub: { type: 'string' },
        token: { type: 'string' },
        key: { type: 'string' },
        wait: { type: 'string' },
        save: { type: 'string' },
      },
      true,
    );
    if (positionals[0] !== 'pull' || positionals.length !== 1)
      throw new UsageError('the only sub-command is "pull"');
    const hub = values.hub ?? process.env.TAKEDOWN_HUB;
    const token = values.token ?? process.env.TAKEDOWN_TOKEN;
    if (!values.feed || !hub || !token)
      throw new UsageError('give --feed, --hub (or TAKEDOWN_HUB) and --token (or TAKEDOWN_TOKEN)');
    const since = values.since === undefined ? undefined : Number(values.since);
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new UsageError(`--since: not a version: ${values.since}`);
    }
    const wait = Number(values.wait ?? 0);
    if (!(wait >= 0 && wait <= 60)) throw new UsageError(`--wait: not 0 to 60 seconds: ${values.wait}`);

    const client = new HubClient({ hub, token, maxBytes: DEFAULT_MAX_BYTES, userAgent: USER_AGENT });
    const fetched =
      since === undefined ? await client.snapshot(values.feed) : await client.delta(values.feed, since, wait);
    switch (fetched.kind) {
      case 'current':
        console.log(`current: the hub has nothing after version ${since}`);
        return 0;
      case 'resync':
        console.log(`resync_required: the hub keeps no delta from version ${since}; pull without --since`);
        return 1;
      case 'absent':
        console.error(`the hub has no feed "${values.feed}"`);
        return 1;
      case 'failed':
        console.error(`${fetched.reason}: ${fetched.message}`);
        return 1;
    }
    const bytes = fetched.bytes;
    if (values.save) await writeFile(values.save, bytes);
    const decoded = decodeArtifact(bytes);
    if (!decoded.ok) {
      console.log(`FAIL ${decoded.error.code}: ${decoded.error.message}`);
      return 1;
    }
    printManifest(decoded.value.manifest, bytes.length);
    let status = 0;
    if (values.key) {
      const keys = await parsePublicKeys(await readFile(values.key, 'utf8'));
      if (!keys.ok) throw new UsageError(`--key ${values.key}: ${keys.error.message}`);
      const verified = await verifyArtifact(bytes, {
        trustedKeys: keys.value,
        feed: values.feed,
        appliedVersion: since ?? null,
        now: Date.now(),
      });
      console.log(
        verified.ok ? 'verify   OK' : `verify   FAIL ${verified.error.code}: ${verified.error.message}`,
      );
      if (!verified.ok) status = 1;
    }
    console.log('');
    return printPayload(decoded.value.manifest, decoded.value.payload) ? status : 1;
  },
};

function printManifest(m: Manifest, size: number): void {
  const rows: Array<[string, string | number]> = [
    ['kind', m.kind],
    ['feed', m.feed],
    ['versions', `${m.from} -> ${m.to}`],
    ['created', new Date(m.createdAt).toISOString()],
    ['expires', new Date(m.expiresAt).toISOString()],
    ['size', `${size} bytes (payload ${m.payloadLength}, sha256 ${m.payloadSha256})`],
    ['entries', `${m.entryCount} after applying, checksum ${m.checksum}`],
    ['key id', m.keyId],
  ];
  for (const [name, value] of rows) console.log(`${name.padEnd(8)} ${value}`);
}

/** The changes of a delta (`+`/`-` lines) or the entries of a snapshot; false when they do not decode. */
function printPayload(m: Manifest, payload: Uint8Array): boolean {
  if (m.kind === 'delta') {
    const changes = decodeDelta(payload);
    if (!changes.ok) {
      console.log(`FAIL ${changes.error.code}: ${changes.error.message}`);
      return false;
    }
    for (const c of changes.value) {
      console.log(
        c.op === 'add' ? `+ ${c.expression}\t${c.kind}\t${c.category}\t${c.action}` : `- ${c.expression}`,
      );
    }
    console.log(`(${changes.value.length} changes)`);
    return true;
  }
  if (m.kind !== 'snapshot' || m.feed === 'filter') {
    console.log(`(${m.kind} payload of feed ${m.feed} is not printed)`);
    return true;
  }
  const state = PlainState.fromSnapshot(payload);
  if (!state.ok) {
    console.log(`FAIL ${state.error.code}: ${state.error.message}`);
    return false;
  }
  for (const e of state.value.entries())
    console.log(`${e.expression}\t${e.kind}\t${e.category}\t${e.action}`);
  console.log(`(${state.value.entryCount} entries)`);
  return true;
}
