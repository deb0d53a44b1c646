import { describe, expect, it } from 'vitest';
import type { Category } from '../../src/core/types.ts';
import type { Page, Registry, RegistryResult } from '../../src/registry/index.ts';
import { must, tempRegistry } from './helpers.ts';

const order = (
  reference: string,
  targets: string[],
  category: Category = 'phishing',
  authority = 'Authority',
) => ({
  reference,
  authority,
  category,
  targets,
});

/** Every item of a listing, following cursors page by page. */
function all<T>(list: (cursor?: string) => RegistryResult<Page<T>>): { items: T[]; pages: number } {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = must(list(cursor));
    pages++;
    items.push(...page.items);
    if (page.nextCursor === null) return { items, pages };
    cursor = page.nextCursor;
  }
}

/** Orders 1..7 with entries `o{id-1}-a.example/` and `o{id-1}-b.example/path/`; even ids are malware; order 2 is revoked in version 8. */
function seeded(): Registry {
  const { registry } = tempRegistry();
  for (let i = 0; i < 7; i++) {
    const category: Category = i % 2 === 0 ? 'phishing' : 'malware';
    must(
      registry.createOrder(
        order(`REF-${i}`, [`o${i}-a.example`, `o${i}-b.example/path/`], category, `auth-${i % 3}`),
        'a',
      ),
    );
  }
  must(registry.revokeOrder(2, 'x', 'a'));
  return registry;
}

describe('listOrders', () => {
  it('pages newest first with an opaque cursor and filters', () => {
    const registry = seeded();
    const { items, pages } = all((cursor) => registry.listOrders({ cursor, limit: 3 }));
    expect(items.map((o) => o.id)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(pages).toBe(3);
    expect(must(registry.listOrders({ status: 'revoked' })).items.map((o) => o.id)).toEqual([2]);
    expect(
      must(registry.listOrders({ category: 'malware', authority: 'auth-0' })).items.map((o) => o.id),
    ).toEqual([4]);
    expect(must(registry.listOrders({ reference: 'REF-5' })).items.map((o) => o.reference)).toEqual([
      'REF-5',
    ]);
  });

  it('refuses malformed cursors and cursors of another listing with bad_cursor', () => {
    const registry = seeded();
    const entriesCursor = must(registry.listEntries({ limit: 1 })).nextCursor as string;
    const ordersCursor = must(registry.listOrders({ limit: 1 })).nextCursor as string;
    for (const cursor of [
      '',
      'not a cursor!',
      'eyJ4Ijox',
      Buffer.from('{"l":"orders","k":"7"}').toString('base64url'),
      entriesCursor,
    ]) {
      const r = registry.listOrders({ cursor });
      expect(r.ok ? 'ok' : r.error.code).toBe('bad_cursor');
    }
    const wrong = registry.listEntries({ cursor: ordersCursor });
    expect(!wrong.ok && wrong.error.code).toBe('bad_cursor');
    const limit = registry.listOrders({ limit: 0 });
    expect(!limit.ok && limit.error.code).toBe('invalid_input');
  });
});

describe('listEntries', () => {
  it('pages all entries sorted by expression', () => {
    const registry = seeded();
    const { items } = all((cursor) => registry.listEntries({ cursor, limit: 4 }));
    const expressions = items.map((e) => e.expression);
    expect(expressions).toHaveLength(14);
    expect(expressions).toEqual([...expressions].sort());
  });

  it('filters by prefix, substring, kind, category, activity and order', () => {
    const registry = seeded();
    const exprs = (q: Parameters<Registry['listEntries']>[0]) =>
      all((cursor) => registry.listEntries({ ...q, cursor, limit: 2 })).items.map((e) => e.expression);
    expect(exprs({ prefix: 'o3-' })).toEqual(['o3-a.example/', 'o3-b.example/path/']);
    expect(exprs({ q: 'B.EXAMPLE/PATH', kind: 'url', active: true, category: 'malware' })).toEqual([
      'o3-b.example/path/',
      'o5-b.example/path/',
    ]);
    expect(exprs({ active: false })).toEqual(['o1-a.example/', 'o1-b.example/path/']);
    expect(exprs({ q: '%' })).toEqual([]);
    const byOrder = all((cursor) => registry.listEntries({ orderId: 3, cursor, limit: 1 }));
    expect(byOrder.items.map((e) => e.expression)).toEqual(['o2-a.example/', 'o2-b.example/path/']);
  });

  it("pages an order's entries through getOrder", () => {
    const { registry } = tempRegistry();
    must(
      registry.createOrder(
        order(
          'BIG',
          Array.from({ length: 25 }, (_, i) => `h${i}.example`),
        ),
        'a',
      ),
    );
    const first = must(registry.getOrder(1, { limit: 10 }));
    expect(first.order.entryCount).toBe(25);
    expect(first.entries.items).toHaveLength(10);
    const { items } = all((cursor) => {
      const r = registry.getOrder(1, { cursor, limit: 10 });
      return r.ok ? { ok: true, value: r.value.entries } : r;
    });
    expect(new Set(items.map((e) => e.expression)).size).toBe(25);
    expect(items.every((e) => e.linkStatus === 'active')).toBe(true);
    const missing = registry.getOrder(99);
    expect(!missing.ok && missing.error.code).toBe('not_found');
  });
});

describe('change log and snapshots', () => {
  it('pages changes by seq and by version', () => {
    const registry = seeded();
    const first = must(registry.listChanges({ limit: 5 }));
    expect(first.items.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(first.nextAfterSeq).toBe(5);
    const next = must(registry.listChanges({ afterSeq: 5, limit: 5 }));
    expect(next.items[0]?.prevHash).toBe(first.items[4]?.hash);
    expect(must(registry.listChanges({ version: 8 })).items.map((c) => `${c.op} ${c.expression}`)).toEqual([
      'revoke ',
      'remove o1-a.example/',
      'remove o1-b.example/path/',
    ]);
    expect(must(registry.listChanges({ version: 99 })).items).toEqual([]);
  });

  it('streams active entries sorted by expression, filtered by kind and category', () => {
    const registry = seeded();
    const all = [...registry.activeEntries()];
    expect(all).toHaveLength(12);
    expect(all.map((e) => e.expression)).toEqual(all.map((e) => e.expression).sort());
    expect(all[0]).toEqual({
      expression: 'o0-a.example/',
      kind: 'domain',
      category: 'phishing',
      action: 'block',
    });
    const dns = [...registry.activeEntries({ kinds: ['domain'], excludeCategories: ['malware'] })];
    expect(dns.map((e) => e.expression)).toEqual([
      'o0-a.example/',
      'o2-a.example/',
      'o4-a.example/',
      'o6-a.example/',
    ]);
    const snapshot = registry.inReadTransaction(() => ({
      version: registry.currentVersion(),
      count: [...registry.activeEntries()].length,
    }));
    expect(snapshot).toEqual({ version: 8, count: 12 });
  });
});
