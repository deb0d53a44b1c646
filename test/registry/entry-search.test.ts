import { describe, expect, it } from 'vitest';
import {
  type EntryQuery,
  entrySql,
  entryStepEndSql,
  entryStepSql,
  SEARCH_STEP_ROWS,
} from '../../src/registry/queries.ts';
import type { Registry } from '../../src/registry/registry.ts';
import { must, rawDb, tempRegistry } from './helpers.ts';

// `GET /v1/entries` filters the hub cannot answer from an index (a substring, a kind, a category, active) are
// read in keyset steps of SEARCH_STEP_ROWS rows with a turn of the event loop between them; the answers are those
// of the one-query listing.

const ENTRIES = 3 * SEARCH_STEP_ROWS + 1234;

/** Domains and URLs in two orders of different categories, the second revoked: every filter has rows to find. */
function filled(): { registry: Registry; path: string } {
  const { registry, path } = tempRegistry();
  const names = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => {
      const n = from + i;
      return n % 7 === 0 ? `site-${n}.example/path/${n % 100}` : `host-${n}.example`;
    });
  for (const [reference, category, from, to] of [
    ['A', 'malware', 0, ENTRIES - 5000],
    ['B', 'phishing', ENTRIES - 5000, ENTRIES],
  ] as const) {
    const session = must(registry.beginImport({ reference, authority: 'X', category }, 'importer'));
    session.add(names(from, to));
    session.commit();
  }
  must(registry.revokeOrder(2, 'issued in error', 'bob'));
  // A rare name near the end: a search for it reads nearly every row before it finds it.
  must(
    registry.createOrder(
      { reference: 'C', authority: 'X', category: 'gambling', targets: ['zz-rare.example'] },
      'alice',
    ),
  );
  return { registry, path };
}

/** Every page of a listing, following nextCursor. */
async function allPages(list: (cursor?: string) => Promise<{ items: unknown[]; nextCursor: string | null }>) {
  const pages: unknown[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
}

describe('searching entries in steps', () => {
  it('answers every filter, page by page, as the one-query listing does, yielding between steps', async () => {
    const { registry } = filled();
    const queries: EntryQuery[] = [
      { q: 'rare' },
      { q: '-1234', limit: 3 },
      { q: 'path/4', limit: 1000 },
      { q: '50%_\\' },
      { kind: 'url', limit: 1000 },
      { category: 'phishing', limit: 1000 },
      { active: false, limit: 1000 },
      { prefix: 'host-2', q: '9', limit: 500 },
      { orderId: 1, q: 'path/9', limit: 300 },
      { orderId: 2, kind: 'url', active: false, limit: 1000 },
      { limit: 1000 },
      { prefix: 'site-1' },
    ];
    for (const query of queries) {
      let turns = 0;
      const stepped = await allPages(async (cursor) =>
        must(
          await registry.searchEntries({ ...query, ...(cursor && { cursor }) }, async () => {
            turns++;
          }),
        ),
      );
      const inOne = await allPages(async (cursor) =>
        must(registry.listEntries({ ...query, ...(cursor && { cursor }) })),
      );
      expect(stepped, JSON.stringify(query)).toEqual(inOne);
      if (query.q === 'rare') {
        expect(stepped).toEqual([[expect.objectContaining({ expression: 'zz-rare.example/' })]]);
        // The whole table, one step per SEARCH_STEP_ROWS rows.
        expect(turns).toBe(Math.floor((ENTRIES + 1) / SEARCH_STEP_ROWS));
      }
    }
    await expect(registry.searchEntries({ cursor: 'nonsense', q: 'x' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'bad_cursor' },
    });
  });

  it('reads each step through the key index (EXPLAIN QUERY PLAN), never a whole-table scan', () => {
    const { path } = filled();
    const db = rawDb(path);
    const plan = (sql: string) =>
      (
        db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(sql.split('?').length - 1).fill('x')) as {
          detail: string;
        }[]
      )
        .map((r) => r.detail)
        .join('; ');
    const bySubstring = must(entrySql({ q: 'rare', category: 'malware', active: true }));
    expect(plan(entryStepEndSql(bySubstring, true))).toMatch(
      /^SEARCH e USING PRIMARY KEY \(expression>\?\)$/,
    );
    expect(plan(entryStepSql(bySubstring, true, true))).toMatch(
      /^SEARCH e USING PRIMARY KEY \(expression>\? AND expression<\?\)$/,
    );
    const inOrder = must(entrySql({ orderId: 1, q: 'rare' }));
    expect(plan(entryStepEndSql(inOrder, true))).toMatch(
      /SEARCH l USING COVERING INDEX order_entries_order \(order_id=\? AND entry_id>\?\)/,
    );
    expect(plan(entryStepSql(inOrder, true, true))).toMatch(
      /^SEARCH l USING INDEX order_entries_order \(order_id=\? AND entry_id>\? AND entry_id<\?\); SEARCH e USING INDEX sqlite_autoindex_entries_2 \(id=\?\)$/,
    );
    db.close();
  });
});
