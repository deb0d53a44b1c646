/**
 * The consumer's side of the transparency log (docs/TRANSPARENCY.md, for consumers): a consumer holds the
 * checkpoint of the artifact it applied last and accepts the next artifact only when that artifact's
 * checkpoint is signed by a trusted key and its tree extends the held one (a consistency proof, checked with
 * the roots the consumer holds, never the server's copies). A fork or a rewritten history is refused with
 * `log_inconsistent` and the consumer keeps its last good state.
 */
import { equalBytes, fromBase64, toBase64 } from './bytes.ts';
import { type Checkpoint, parseCheckpoint, verifyCheckpoint } from './checkpoint.ts';
import type { HubClient } from './hub-client.ts';
import type { PublicKey } from './keys.ts';
import { consistencyProof, type NodeReader, verifyConsistency } from './merkle.ts';
import { hashTilePath, TILE_WIDTH, tileNodeReader } from './tlog-tiles.ts';
import { fail, ok, type Result } from './types.ts';

/** A checkpoint a consumer verified, with its signed note (what it persists and can show anyone). */
export interface HeldCheckpoint extends Checkpoint {
  note: string;
}

/** Why an artifact's checkpoint was refused (each one is also a rejection reason of the consumers). */
export const LOG_CODES = [
  'checkpoint_missing',
  'checkpoint_invalid',
  'log_inconsistent',
  'proof_unavailable',
] as const;

/**
 * The consistency proof from the tree of `older` to the tree of `newer` (sizes as the checkpoints say). A
 * source that cannot give one fails with `proof_unavailable`; one that sees the server's roots differ from
 * the held ones fails with `log_inconsistent`.
 */
export type ConsistencySource = (older: Checkpoint, newer: Checkpoint) => Promise<Result<Uint8Array[]>>;

/** The checkpoint as reported to the hub (`POST /v1/distributors/report`). */
export interface CheckpointSummary {
  version: number;
  treeSize: number;
  rootHash: string;
}

export const summarizeCheckpoint = (c: Checkpoint): CheckpointSummary => ({
  version: c.version,
  treeSize: c.treeSize,
  rootHash: toBase64(c.root),
});

/**
 * Checks the checkpoint `note` an artifact of version `to` carries against the `held` one. Returns the
 * checkpoint to hold once the artifact is applied: the newer of the two (null while neither exists). An
 * artifact without a checkpoint (format 1, or the hub's version 0, whose log is empty) is accepted only by a
 * consumer that holds none yet, or when it does not reach past the held one (a reload through an older
 * snapshot, whose onward delta must then extend the held log): dropping the checkpoint would let a hub
 * leave the log behind unnoticed.
 */
export async function checkLogAdvance(
  held: HeldCheckpoint | null,
  note: string,
  to: number,
  keys: readonly PublicKey[],
  proofs: ConsistencySource,
): Promise<Result<HeldCheckpoint | null>> {
  if (note === '') {
    if (held === null || to < held.version) return ok(held);
    return fail(
      'checkpoint_missing',
      `the artifact carries no checkpoint, the consumer holds the one of version ${held.version}`,
    );
  }
  const verified = await verifyCheckpoint(note, keys);
  if (!verified.ok) return fail('checkpoint_invalid', verified.error.message);
  const next: HeldCheckpoint = { ...verified.value, note };
  if (held === null) return ok(next);
  if (next.origin !== held.origin) {
    return fail(
      'checkpoint_invalid',
      `checkpoint of log "${next.origin}", the consumer follows "${held.origin}"`,
    );
  }
  const [older, newer] = next.version >= held.version ? [held, next] : [next, held];
  const what = `the tree of version ${newer.version} (size ${newer.treeSize}) and the one of version ${older.version} (size ${older.treeSize})`;
  if (newer.treeSize < older.treeSize) return fail('log_inconsistent', `${what}: the log shrank`);
  if (newer.treeSize === older.treeSize) {
    // Equal sizes need equal roots: nothing to fetch.
    if (equalBytes(newer.root, older.root)) return ok(newer);
    return fail('log_inconsistent', `${what}: same size, different roots`);
  }
  const proof = await proofs(older, newer);
  if (!proof.ok) return proof;
  if (!verifyConsistency(older.treeSize, newer.treeSize, proof.value, older.root, newer.root)) {
    return fail(
      'log_inconsistent',
      `${what}: the consistency proof does not hold, the log was forked or rewritten`,
    );
  }
  return ok(newer);
}

/** What `GET /v1/log/proof/consistency` answers (only the fields a consumer reads). */
interface ConsistencyAnswer {
  from?: { treeSize?: unknown; rootHash?: unknown };
  to?: { treeSize?: unknown; rootHash?: unknown };
  proof?: unknown;
}

/**
 * The proof from the hub's answer to `GET /v1/log/proof/consistency?from=&to=`: the sizes must be the held
 * checkpoints', and the roots the hub names for them too (a hub naming another root for a version the
 * consumer holds has rewritten it).
 */
export function proofFromAnswer(body: unknown, older: Checkpoint, newer: Checkpoint): Result<Uint8Array[]> {
  const answer = (body ?? {}) as ConsistencyAnswer;
  const proof = Array.isArray(answer.proof)
    ? answer.proof.map((p) => (typeof p === 'string' ? fromBase64(p) : undefined))
    : null;
  if (
    proof === null ||
    proof.some((p) => p === undefined) ||
    answer.from === undefined ||
    answer.to === undefined
  ) {
    return fail('proof_unavailable', 'the consistency proof answer is not {from, to, proof: [base64]}');
  }
  for (const [side, held] of [
    [answer.from, older],
    [answer.to, newer],
  ] as const) {
    if (side.treeSize !== held.treeSize || side.rootHash !== toBase64(held.root)) {
      return fail(
        'log_inconsistent',
        `the hub's tree of version ${held.version} is size ${String(side.treeSize)} root ${String(side.rootHash)}, the signed checkpoint says size ${held.treeSize} root ${toBase64(held.root)}`,
      );
    }
  }
  return ok(proof as Uint8Array[]);
}

/**
 * A consistency source over hash tiles (the C2SP tlog-tiles layout `takedown publish` writes under `log/`):
 * the tiles the proof needs are listed first (a dry run of the proof), fetched, then read. `loadTile` gives
 * the tile (level, index) of the published tree, or null when it is not there.
 */
export function tileConsistencySource(
  loadTile: (level: number, index: number) => Promise<Uint8Array | null>,
): ConsistencySource {
  return async (older, newer) => {
    const wanted = new Map<string, [number, number]>();
    const dryRun = tileNodeReader((level, index) => {
      wanted.set(`${level}/${index}`, [level, index]);
      return null;
    });
    const listing: NodeReader = (height, index) => {
      try {
        return dryRun(height, index);
      } catch {
        // The dry run only records which tiles are read.
        return new Uint8Array(32);
      }
    };
    consistencyProof(listing, older.treeSize, newer.treeSize);
    const tiles = new Map<string, Uint8Array | null>();
    await Promise.all(
      [...wanted].map(async ([key, [level, index]]) => tiles.set(key, await loadTile(level, index))),
    );
    try {
      const read = tileNodeReader((level, index) => tiles.get(`${level}/${index}`) ?? null);
      return ok(consistencyProof(read, older.treeSize, newer.treeSize));
    } catch (error) {
      return fail('proof_unavailable', `the published tiles give no proof: ${(error as Error).message}`);
    }
  };
}

/** The latest checkpoint of the log `takedown publish` writes beside the feeds (tlog-tiles.ts). */
const PUBLISHED_CHECKPOINT = 'log/checkpoint';
const decoder = new TextDecoder();

/**
 * A consistency source over the log tiles published beside a static feed copy (`log/` of `takedown
 * publish`), wherever the copy is: `read` gives a file by its path in the copy, or null when it is not
 * there. The sync agent reads a mirror over HTTP through it, the edge worker its bucket. The published
 * checkpoint only says which tile files exist (partial tiles are named by their width): the proof is
 * checked against the roots the consumer holds.
 */
export function publishedTilesSource(read: (path: string) => Promise<Uint8Array | null>): ConsistencySource {
  return async (older, newer) => {
    const note = await read(PUBLISHED_CHECKPOINT).catch(() => null);
    const published = note === null ? null : parseCheckpoint(decoder.decode(note));
    if (!published?.ok || published.value.checkpoint.treeSize < newer.treeSize) {
      return fail('proof_unavailable', `no log tiles of size ${newer.treeSize} or more are published`);
    }
    const size = published.value.checkpoint.treeSize;
    const tiles = tileConsistencySource(async (level, index) => {
      const width = Math.min(TILE_WIDTH, Math.floor(size / TILE_WIDTH ** level) - index * TILE_WIDTH);
      if (width <= 0) return null;
      return read(`log/${hashTilePath(level, index, width)}`).catch(() => null);
    });
    return tiles(older, newer);
  };
}

/** A consistency source asking the hub's proof route (checked against the held checkpoints). */
export function hubConsistencySource(client: Pick<HubClient, 'consistencyProof'>): ConsistencySource {
  return async (older, newer) => {
    const answer = await client.consistencyProof(older.version, newer.version);
    if (answer.kind === 'failed') return fail('proof_unavailable', answer.message);
    return proofFromAnswer(answer.body, older, newer);
  };
}
