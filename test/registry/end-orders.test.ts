import { describe, expect, it } from 'vitest';
import type { Category } from '../../src/core/types.ts';
import type { Registry } from '../../src/registry/index.ts';
import { clock, must, tempRegistry } from './helpers.ts';

const order = (reference: string, targets: string[], category: Category = 'phishing', extra = {}) => ({
  reference,
  authority: 'Authority',
  category,
  targets,
  ...extra,
});

/** The change-log rows of one version as `op expression category order`. */
/** The entry rows (add, remove) of a version; decision rows are checked in safe-orders.test.ts. */
function rows(registry: Registry, version: number): string[] {
  return must(registry.listChanges({ version }))
    .items.filter((c) => c.op === 'add' || c.op === 'remove')
    .map((c) => `${c.op} ${c.expression} ${c.category} ${c.orderRef}`);
}

const net = (registry: Registry, from: number, to: number) =>
  [...registry.netChanges(from, to)].map((c) => `${c.op} ${c.expression} ${c.category}`);

describe('net changes per version', () => {
  it('logs no add when a second order lists an active expression, and no remove when one of two is revoked', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('A', ['evil.example', 'only-a.example']), 'alice'));
    const b = must(registry.createOrder(order('B', ['evil.example', 'only-b.example']), 'bob'));
    expect(b.results.map((r) => r.status)).toEqual(['already-active', 'added']);
    expect(rows(registry, 2)).toEqual(['add only-b.example/ phishing B']);
    const revoked = must(registry.revokeOrder(2, 'issued in error', 'bob'));
    expect(revoked).toEqual({ version: 3, adds: 0, removes: 1 });
    expect(rows(registry, 3)).toEqual(['remove only-b.example/ phishing B']);
    expect(registry.getEntry('evil.example/')).toMatchObject({ active: true, orderId: 1 });
    expect(must(registry.getOrder(2)).order).toMatchObject({
      status: 'revoked',
      revokeReason: 'issued in error',
      endedVersion: 3,
    });
  });

  it('logs remove + add when the effective category changes, and nothing when it does not', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('A', ['both.example', 'same.example']), 'alice'));
    must(registry.createOrder(order('B', ['both.example'], 'malware'), 'bob'));
    must(registry.createOrder(order('C', ['same.example'], 'phishing'), 'carol'));
    must(registry.revokeOrder(1, 'superseded', 'alice'));
    expect(rows(registry, 4)).toEqual(['remove both.example/ phishing A', 'add both.example/ malware B']);
    expect(registry.getEntry('same.example/')).toMatchObject({
      active: true,
      orderId: 3,
      category: 'phishing',
    });
    expect(registry.getEntry('both.example/')).toMatchObject({
      active: true,
      orderId: 2,
      category: 'malware',
    });
    // 2 adds, the revoke row, remove + add
    expect(registry.verifyChain()).toEqual({ ok: true, rows: 5 });
  });

  it('computes net changes between versions: add then remove cancels, remove then add of the same is nothing', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('A', ['stay.example', 'flip.example', 'gone.example']), 'alice'));
    must(registry.createOrder(order('B', ['temp.example']), 'alice'));
    must(registry.revokeOrder(2, 'x', 'alice'));
    must(registry.revokeEntry('flip.example', 'x', 'alice'));
    must(registry.createOrder(order('C', ['flip.example']), 'alice'));
    must(registry.revokeEntry('gone.example/', 'x', 'alice'));
    must(registry.createOrder(order('D', ['stay.example/x/'], 'malware'), 'alice'));
    const v = registry.currentVersion();
    expect(net(registry, 1, v)).toEqual(['remove gone.example/ phishing', 'add stay.example/x/ malware']);
    expect(net(registry, 0, v)).toEqual([
      'add flip.example/ phishing',
      'add stay.example/ phishing',
      'add stay.example/x/ malware',
    ]);
    expect(net(registry, v, v)).toEqual([]);
    expect(() => registry.netChanges(2, 1)).toThrow(/version range 2\.\.1/);
    expect(() => registry.netChanges(0, v + 1)).toThrow(RangeError);
  });

  it('reports a category change across versions as remove + add', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('A', ['x.example']), 'alice'));
    must(registry.createOrder(order('B', ['x.example'], 'gambling'), 'alice'));
    must(registry.revokeOrder(1, 'x', 'alice'));
    expect(net(registry, 1, 3)).toEqual(['remove x.example/ phishing', 'add x.example/ gambling']);
  });
});

describe('revokeEntry', () => {
  it('removes the entry from every order and lets a later order list it again', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('A', ['evil.example', 'other.example']), 'alice'));
    must(registry.createOrder(order('B', ['evil.example']), 'bob'));
    const r = must(registry.revokeEntry('EVIL.example', 'court ruling', 'carol'));
    expect(r).toMatchObject({ version: 3, adds: 0, removes: 1, entry: { active: false, orderId: 1 } });
    expect(rows(registry, 3)).toEqual(['remove evil.example/ phishing A']);
    const entries = must(registry.getOrder(2)).entries.items;
    expect(entries.map((e) => [e.expression, e.linkStatus, e.removedReason])).toEqual([
      ['evil.example/', 'removed', 'court ruling'],
    ]);
    expect(registry.matchExpressions(['evil.example/'])).toEqual([]);
    expect(must(registry.revokeOrder(1, 'x', 'alice')).removes).toBe(1);

    const again = must(registry.createOrder(order('C', ['evil.example'], 'malware'), 'dave'));
    expect(again.results[0]?.status).toBe('added');
    expect(registry.getEntry('evil.example/')).toMatchObject({
      active: true,
      orderId: 3,
      category: 'malware',
      firstVersion: 1,
    });
    expect(registry.verifyChain().ok).toBe(true);
  });

  it('fails with not_found or conflict and writes no version', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('A', ['evil.example']), 'alice'));
    must(registry.revokeEntry(1, 'x', 'alice'));
    const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error?.code);
    expect(code(registry.revokeEntry('nothing.example', 'x', 'alice'))).toBe('not_found');
    expect(code(registry.revokeEntry(1, 'x', 'alice'))).toBe('conflict');
    expect(code(registry.revokeEntry(1, ' ', 'alice'))).toBe('invalid_input');
    expect(code(registry.revokeOrder(99, 'x', 'alice'))).toBe('not_found');
    expect(registry.currentVersion()).toBe(2);
  });
});

describe('expiry', () => {
  it('expires due orders in one version, reports the next expiry, and ignores extended ones', () => {
    const c = clock('2025-01-01T00:00:00.000Z');
    const { registry } = tempRegistry({ now: c.now });
    must(
      registry.createOrder(
        order('A', ['a.example', 'shared.example'], 'phishing', { expiresAt: '2025-02-01T00:00:00Z' }),
        'alice',
      ),
    );
    must(
      registry.createOrder(
        order('B', ['b.example', 'shared.example'], 'malware', { expiresAt: '2025-02-01T00:00:00Z' }),
        'alice',
      ),
    );
    must(
      registry.createOrder(
        order('C', ['c.example'], 'fraud', { expiresAt: '2025-03-01T00:00:00Z' }),
        'alice',
      ),
    );
    must(registry.createOrder(order('D', ['d.example']), 'alice'));
    expect(registry.nextExpiry()?.toISOString()).toBe('2025-02-01T00:00:00.000Z');
    expect(registry.expireDue()).toBeNull();

    const extended = must(registry.extendOrder(3, '2025-12-31T00:00:00Z', 'alice'));
    expect(extended).toMatchObject({
      version: 5,
      adds: 0,
      removes: 0,
      order: { expiresAt: '2025-12-31T00:00:00.000Z' },
    });

    c.set('2025-06-01T00:00:00.000Z');
    const swept = registry.expireDue();
    expect(swept).toEqual({ version: 6, adds: 0, removes: 3, orders: [1, 2] });
    expect(registry.versionInfo(6)).toMatchObject({ kind: 'expire', actor: 'system' });
    // shared.example went from A (phishing) to nothing: one remove, not a remove+add+remove.
    expect(rows(registry, 6)).toEqual([
      'remove a.example/ phishing A',
      'remove shared.example/ phishing A',
      'remove b.example/ malware B',
    ]);
    expect(must(registry.getOrder(1)).order).toMatchObject({ status: 'expired', endedVersion: 6 });
    expect(registry.expireDue()).toBeNull();
    expect(registry.nextExpiry()?.toISOString()).toBe('2025-12-31T00:00:00.000Z');
    expect(registry.verifyChain().ok).toBe(true);
  });

  it('never extends an ended order; an expiry moved into the past waits for the sweep', () => {
    const c = clock('2025-01-01T00:00:00.000Z');
    const { registry } = tempRegistry({ now: c.now });
    must(
      registry.createOrder(
        order('A', ['a.example'], 'phishing', { expiresAt: '2025-02-01T00:00:00Z' }),
        'alice',
      ),
    );
    must(registry.extendOrder(1, '2024-12-01T00:00:00Z', 'alice'));
    expect(registry.getEntry('a.example/')?.active).toBe(true);
    expect(registry.expireDue(new Date('2025-01-01T00:00:01Z'))?.removes).toBe(1);
    const r = registry.extendOrder(1, '2026-01-01T00:00:00Z', 'alice');
    expect(!r.ok && r.error.code).toBe('conflict');
    expect(registry.getEntry('a.example/')?.active).toBe(false);
    const bad = registry.extendOrder(1, 'soon', 'alice');
    expect(!bad.ok && bad.error.code).toBe('invalid_input');
  });
});
