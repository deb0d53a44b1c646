import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { decodeLeaf, isChangeLeaf, type LogLeaf } from '../../src/core/log-leaf.ts';
import { hashLeaf, TreeBuilder, verifyConsistency, verifyInclusion } from '../../src/core/merkle.ts';
import type { Registry } from '../../src/registry/index.ts';
import { clock, must, rawDb, reopen, tempRegistry } from './helpers.ts';

const order = (reference: string, targets: string[], extra: Record<string, unknown> = {}) => ({
  reference,
  authority: 'MIC',
  category: 'phishing' as const,
  reason: `court ruling for ${reference}`,
  targets,
  ...extra,
});

/** Every leaf of the log, decoded, and the roots recomputed from them at each version's size. */
function replay(registry: Registry) {
  const latest = registry.logHead();
  const bytes = latest === null ? [] : registry.logLeaves(0, latest.treeSize);
  const leaves = bytes.map(decodeLeaf);
  const builder = new TreeBuilder();
  const roots = new Map<number, string>();
  for (const b of bytes) {
    builder.push(hashLeaf(b));
    roots.set(builder.size, toHex(builder.root()));
  }
  return { bytes, leaves, roots };
}

/** Checks every version's stored head against the recomputed tree. */
function expectHeadsMatch(registry: Registry) {
  const { roots } = replay(registry);
  for (let v = 1; v <= registry.currentVersion(); v++) {
    const head = registry.logHead(v);
    expect(head, `head of version ${v}`).not.toBeNull();
    expect(toHex(head?.root as Uint8Array), `root of version ${v}`).toBe(roots.get(head?.treeSize as number));
  }
}

const summary = (l: LogLeaf) =>
  isChangeLeaf(l)
    ? `${l.version} ${l.type} ${l.target} #${l.order.id}`
    : `${l.version} ${l.type} #${l.order.id}`;

describe('transparency log leaves', () => {
  it('writes one leaf per order event and per change row, each change pointing at its order', () => {
    const c = clock();
    const { registry } = tempRegistry({ now: c.now });
    must(registry.createOrder(order('A/1', ['evil.example', 'bad.example']), 'alice'));
    must(registry.createOrder(order('B/2', ['bad.example'], { expiresAt: '2025-02-01T00:00:00Z' }), 'alice'));
    must(registry.extendOrder(2, '2025-03-01T00:00:00.000Z', 'alice'));
    must(registry.revokeOrder(1, 'lifted on appeal', 'bob'));
    must(registry.revokeEntry('bad.example', 'collateral', 'bob'));
    c.set('2025-04-01T00:00:00.000Z');
    registry.expireDue();
    must(
      registry.createOrder(order('C/3', ['gov'], { override: { reason: 'the ministry asked' } }), 'alice'),
    );

    const { leaves } = replay(registry);
    expect(leaves.map(summary)).toEqual([
      '1 order-created #1',
      '1 add evil.example/ #1',
      '1 add bad.example/ #1',
      '2 order-created #2',
      '3 order-extended #2',
      '4 order-revoked #1',
      '4 remove evil.example/ #1',
      '5 remove bad.example/ #2',
      '6 order-expired #2',
      '7 order-created #3',
      '7 add gov/ #3',
      '7 order-override #3',
    ]);
    const add = leaves[1] as LogLeaf & { type: 'add' };
    expect(add.order).toEqual({ id: 1, reference: 'A/1', authority: 'MIC', reason: 'court ruling for A/1' });
    expect(leaves[4]).toMatchObject({ order: { expiresAt: '2025-03-01T00:00:00.000Z' } });
    expect(leaves[5]).toMatchObject({ detail: 'lifted on appeal' });
    expect(leaves[7]).toMatchObject({ note: '{"reason":"collateral"}' });
    expect(JSON.parse((leaves[11] as LogLeaf & { detail: string }).detail)).toEqual({
      rails: ['public_suffix', 'protected_domain'],
      reason: 'the ministry asked',
    });
    expectHeadsMatch(registry);
  });

  it('shows a confidential target only as an HMAC commitment under the key kept beside the database', () => {
    const { registry, path } = tempRegistry();
    must(registry.createOrder({ ...order('S/1', ['secret.example/path']), category: 'csam' }, 'alice'));
    const keyFile = join(dirname(path), 'keys', 'commitment.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex');
    expect(toHex(registry.commitmentKey())).toBe(key.toString('hex'));
    const { bytes, leaves } = replay(registry);
    const hmac = createHmac('sha256', key).update('secret.example/path').digest('hex');
    expect(leaves[1]).toMatchObject({
      type: 'add',
      target: `hmac-sha256:${hmac}`,
      category: 'csam',
      kind: 'url',
    });
    expect(Buffer.from(bytes[1] as Uint8Array).toString()).not.toContain('secret.example');
    registry.close();
    // The same key after a restart: the commitments of old leaves stay checkable.
    expect(toHex(reopen(path).commitmentKey())).toBe(key.toString('hex'));
  });

  it('serves inclusion and consistency proofs that verify against every version head', () => {
    const { registry } = tempRegistry();
    for (let i = 0; i < 12; i++)
      must(registry.createOrder(order(`R/${i}`, [`n${i}.example`, `m${i}.example/x`]), 'a'));
    must(registry.revokeOrder(3, 'done', 'a'));
    const { bytes } = replay(registry);
    const current = registry.currentVersion();
    for (let v = 1; v <= current; v++) {
      const head = registry.logHead(v);
      if (head === null) throw new Error(`no head ${v}`);
      for (let leaf = 0; leaf < head.treeSize; leaf += 5) {
        const p = must(registry.logInclusionProof(v, leaf));
        expect(
          verifyInclusion(leaf, head.treeSize, hashLeaf(bytes[leaf] as Uint8Array), p.proof, head.root),
        ).toBe(true);
      }
      for (let w = v; w <= current; w++) {
        const p = must(registry.logConsistencyProof(v, w));
        expect(verifyConsistency(p.from.treeSize, p.to.treeSize, p.proof, p.from.root, p.to.root)).toBe(true);
      }
    }
    expect(registry.logInclusionProof(1, 3)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(registry.logInclusionProof(99, 0)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(registry.logConsistencyProof(3, 2)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('keeps tiles across levels consistent through a bulk import and pages of leaves', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('first', ['first.example']), 'a'));
    const session = must(
      registry.beginImport({ reference: 'BULK', authority: 'MIC', category: 'malware' }, 'a'),
    );
    // 66 000 rows: past 256 * 256 leaves, so a level-2 tile exists.
    for (let chunk = 0; chunk < 66; chunk++) {
      session.add(Array.from({ length: 1000 }, (_, i) => `h${chunk}-${i}.example`));
    }
    session.commit();
    must(registry.revokeEntry('h3-7.example', 'mistake', 'a'));
    expect(registry.logTile(2, 0)?.length).toBe(32);
    expectHeadsMatch(registry);
    const page = registry.logLeaves(65_530, 10).map(decodeLeaf);
    // Leaves 0 and 2 are the two orders' events: leaf i is change row i - 1 from there on.
    expect(page.map((l) => (isChangeLeaf(l) ? l.seq : -1))).toEqual(
      Array.from({ length: 10 }, (_, i) => 65_529 + i),
    );
    const head = registry.logHead() as { treeSize: number; root: Uint8Array };
    const last = registry.logLeaves(head.treeSize - 1, 10);
    expect(last.length).toBe(1);
    const p = must(registry.logInclusionProof(registry.currentVersion(), 40_000));
    const leaf = registry.logLeaves(40_000, 1)[0] as Uint8Array;
    expect(verifyInclusion(40_000, head.treeSize, hashLeaf(leaf), p.proof, head.root)).toBe(true);
  });

  it('back-fills the log of a registry written before it existed', () => {
    const { registry, path } = tempRegistry();
    must(registry.createOrder(order('A/1', ['a.example', 'b.example']), 'a'));
    must(registry.createOrder(order('B/2', ['gov'], { override: { reason: 'asked' } }), 'a'));
    must(registry.revokeOrder(1, 'done', 'a'));
    registry.close();
    const db = rawDb(path);
    db.exec(`DROP TRIGGER log_events_no_delete; DROP TRIGGER log_heads_no_delete;
      DELETE FROM log_events; DELETE FROM log_heads; DELETE FROM log_tiles;`);
    db.close();
    const again = reopen(path);
    expect(replay(again).leaves.map(summary)).toEqual([
      '1 order-created #1',
      '1 add a.example/ #1',
      '1 add b.example/ #1',
      '2 order-created #2',
      '2 order-override #2',
      '2 add gov/ #2',
      '3 order-revoked #1',
      '3 remove a.example/ #1',
      '3 remove b.example/ #1',
    ]);
    expectHeadsMatch(again);
  });
});
