/** Small signed feeds built with the real encoders, shared by the artifact, verify and consumer tests. */
import { readFileSync } from 'node:fs';
import { encodeArtifact, type ManifestInput } from '../../src/core/artifact.ts';
import { signCheckpoint } from '../../src/core/checkpoint.ts';
import { importPrivateKey, type SigningKey } from '../../src/core/keys.ts';
import { encodeDelta } from '../../src/core/plain-payload.ts';
import { diff, PlainState } from '../../src/core/plain-state.ts';
import { sha256Sync } from '../../src/core/sha256.ts';
import type { FeedEntry } from '../../src/core/types.ts';

export const GOLDEN_DIR = new URL('../fixtures/golden/', import.meta.url);
/** 2025-01-01T00:00:00Z: every fixture is created then, so its bytes never change. */
export const T0 = Date.UTC(2025, 0, 1);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The committed test-only key (never used outside tests). */
export async function goldenKey(): Promise<SigningKey> {
  const key = await importPrivateKey(readFileSync(new URL('test-signing-key.txt', GOLDEN_DIR), 'utf8'));
  if (!key.ok) throw new Error(key.error.message);
  return key.value;
}

const entry = (expression: string, category: FeedEntry['category'], action: FeedEntry['action'] = 'block') =>
  ({
    expression,
    // `host/` is a whole domain; anything with a path is a URL entry (docs/ARCHITECTURE.md: entries and matching).
    kind: expression.indexOf('/') === expression.length - 1 ? 'domain' : 'url',
    category,
    action,
  }) as FeedEntry;

/** Registry versions 1 to 3 of a small `url` feed. */
export const VERSIONS: Record<number, FeedEntry[]> = {
  1: [entry('bank-login.example/', 'phishing'), entry('casino.example/', 'gambling', 'redirect')],
  2: [
    entry('bank-login.example/', 'phishing'),
    entry('casino.example/', 'gambling', 'redirect'),
    entry('evil.example.com/login.php?x=1', 'phishing'),
    entry('malware.test/', 'malware'),
  ],
  3: [
    entry('casino.example/', 'fraud'),
    entry('evil.example.com/login.php?x=1', 'phishing'),
    entry('evil.example.com/phish/', 'phishing'),
    entry('malware.test/', 'malware'),
  ],
};

export const stateAt = (version: number): PlainState => PlainState.fromEntries(VERSIONS[version] ?? []);

interface Options {
  feed?: string;
  createdAt?: number;
  expiresAt?: number;
  /** Overrides of what the manifest claims about the resulting state. */
  claim?: Partial<Pick<ManifestInput, 'entryCount' | 'checksum'>>;
  /** Leave the log checkpoint out. */
  noCheckpoint?: boolean;
}

/** A checkpoint of `version` signed by `key`: a made-up tree of 3 leaves per version. */
export const checkpointOf = (version: number, key: SigningKey): Promise<string> =>
  signCheckpoint(
    {
      origin: 'takedown.test/log',
      treeSize: 3 * version,
      root: sha256Sync(new TextEncoder().encode(`root of ${version}`)),
      version,
    },
    key,
  );

/** The snapshot artifact of `version`. */
export async function snapshotArtifact(
  version: number,
  key: SigningKey,
  options: Options = {},
): Promise<Uint8Array> {
  const state = stateAt(version);
  return encodeArtifact(
    await manifestOf('snapshot', 0, version, state, key, options),
    state.toSnapshotPayload(),
    key,
  );
}

/** The delta artifact from version `from` to `to`. */
export async function deltaArtifact(from: number, to: number, key: SigningKey, options: Options = {}) {
  const state = stateAt(to);
  const payload = encodeDelta(diff(stateAt(from), state));
  return encodeArtifact(await manifestOf('delta', from, to, state, key, options), payload, key);
}

async function manifestOf(
  kind: 'snapshot' | 'delta',
  from: number,
  to: number,
  state: PlainState,
  key: SigningKey,
  options: Options,
): Promise<ManifestInput> {
  const createdAt = options.createdAt ?? T0 + to * HOUR;
  return {
    kind,
    feed: options.feed ?? 'url',
    from,
    to,
    createdAt,
    expiresAt: options.expiresAt ?? createdAt + DAY,
    entryCount: options.claim?.entryCount ?? state.entryCount,
    checksum: options.claim?.checksum ?? (await state.checksum()),
    ...(!options.noCheckpoint && { checkpoint: await checkpointOf(to, key) }),
  };
}
