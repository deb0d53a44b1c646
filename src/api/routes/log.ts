import { Hono } from 'hono';
import { toBase64 } from '../../core/bytes.ts';
import { decodeLeaf } from '../../core/log-leaf.ts';
import { hashLeaf } from '../../core/merkle.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { unwrap } from '../registry-result.ts';
import { checkpointQuery, consistencyQuery, inclusionQuery, logEntriesQuery } from '../schemas.ts';
import { validate } from '../validate.ts';

/**
 * `/v1/log/*`: the transparency log, public (no token): anyone may check that the list is append-only and
 * that every entry points at an order. Confidential targets are commitments in the leaves themselves.
 * docs/TRANSPARENCY.md describes the formats.
 */
export function logRoutes({ registry, checkpoint }: AppDeps) {
  const signed = async (version?: number) => {
    if (checkpoint === undefined)
      throw new ApiError(503, 'log_unavailable', 'this hub does not sign checkpoints');
    const c = await checkpoint(version);
    if (c === null) {
      if (version === undefined) throw new ApiError(404, 'log_empty', 'the log has no entries yet');
      throw new ApiError(404, 'not_found', `version ${version} does not exist`);
    }
    return c;
  };
  const head = (c: { version: number; treeSize: number; root: Uint8Array }) => ({
    version: c.version,
    treeSize: c.treeSize,
    rootHash: toBase64(c.root),
  });
  return new Hono()
    .get('/checkpoint', validate('query', checkpointQuery), async (c) => {
      const cp = await signed(c.req.valid('query').version);
      return c.text(cp.note, 200, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-cache',
        'x-takedown-version': String(cp.version),
      });
    })
    .get('/proof/inclusion', validate('query', inclusionQuery), async (c) => {
      const { version, leaf } = c.req.valid('query');
      const p = unwrap(registry.logInclusionProof(version, leaf));
      const [bytes] = registry.logLeaves(leaf, 1);
      const cp = await signed(version);
      return c.json({
        ...head(cp),
        leafIndex: p.leafIndex,
        leafHash: bytes ? toBase64(hashLeaf(bytes)) : null,
        proof: p.proof.map(toBase64),
        checkpoint: cp.note,
      });
    })
    .get('/proof/consistency', validate('query', consistencyQuery), async (c) => {
      const { from, to } = c.req.valid('query');
      const p = unwrap(registry.logConsistencyProof(from, to));
      const [a, b] = await Promise.all([signed(from), signed(to)]);
      return c.json({
        from: { ...head(a), checkpoint: a.note },
        to: { ...head(b), checkpoint: b.note },
        proof: p.proof.map(toBase64),
      });
    })
    .get('/entries', validate('query', logEntriesQuery), (c) => {
      const { start, limit } = c.req.valid('query');
      const treeSize = registry.logHead()?.treeSize ?? 0;
      const leaves = registry.logLeaves(start, limit);
      const entries = leaves.map((leaf, i) => ({
        index: start + i,
        leaf: toBase64(leaf),
        leafHash: toBase64(hashLeaf(leaf)),
        ...decodeLeaf(leaf),
      }));
      const next = start + entries.length < treeSize ? start + entries.length : null;
      return c.json({ treeSize, start, entries, next });
    });
}
