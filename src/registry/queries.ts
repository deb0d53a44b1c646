/** Read side of the registry: orders, entries, matches and versions, with keyset pagination. */

import type { Category, EntryKind, FeedEntry } from '../core/types.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { releasedOf } from './released.ts';
import {
  ENTRY_COLUMNS,
  isDomainSql,
  kindOf,
  ORDER_COLUMNS,
  ORDER_REF_COLUMNS,
  toEntry,
  toOrder,
  toOrderEntry,
  toOrderRef,
  toVersionInfo,
} from './rows.ts';
import { failure, type Store, success } from './store.ts';
import type {
  Entry,
  EntryHistory,
  Match,
  Order,
  OrderEntry,
  OrderStatus,
  Page,
  RegistryResult,
  VersionInfo,
} from './types.ts';

/** Pages hold at most this many items. */
export const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** The page size asked for, or `invalid_input`. */
export function pageSize(limit: number | undefined): RegistryResult<number> {
  if (limit === undefined) return success(DEFAULT_PAGE);
  if (!Number.isInteger(limit) || limit < 1) {
    return failure('invalid_input', `limit ${String(limit)} is not a positive integer`);
  }
  return success(Math.min(limit, MAX_PAGE));
}

export function getOrder(store: Store, id: number): Order | null {
  const row = store.stmt(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.id = ?`).get(id);
  return row === undefined ? null : toOrder(row);
}

export interface OrderQuery {
  cursor?: string;
  limit?: number;
  status?: OrderStatus;
  reference?: string;
  category?: Category;
  authority?: string;
  /** Orders whose reference starts with this. */
  referencePrefix?: string;
  /** Created at or after this ISO time or date. */
  since?: string;
  /** Created before this ISO time or date (a bare date excludes that day). */
  until?: string;
}

const utcText = (time: string) => (/^\d{4}-\d\d-\d\d$/.test(time) ? time : new Date(time).toISOString());

/** Orders, newest first. */
export function listOrders(store: Store, q: OrderQuery = {}): RegistryResult<Page<Order>> {
  const limit = pageSize(q.limit);
  if (!limit.ok) return limit;
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.cursor !== undefined) {
    const after = decodeCursor(q.cursor, 'orders', 'number');
    if (!after.ok) return after;
    where.push('o.id < ?');
    params.push(after.value);
  }
  for (const [column, value] of [
    ['status', q.status],
    ['reference', q.reference],
    ['category', q.category],
    ['authority', q.authority],
  ] as const) {
    if (value === undefined) continue;
    where.push(`o.${column} = ?`);
    params.push(value);
  }
  if (q.referencePrefix) {
    where.push('substr(o.reference, 1, length(?)) = ?');
    params.push(q.referencePrefix, q.referencePrefix);
  }
  // Times are stored as UTC ISO strings: comparing text orders them, and a bare date sorts before its times.
  if (q.since !== undefined) {
    where.push('o.created_at >= ?');
    params.push(utcText(q.since));
  }
  if (q.until !== undefined) {
    where.push('o.created_at < ?');
    params.push(utcText(q.until));
  }
  const sql = `SELECT ${ORDER_COLUMNS} FROM orders o ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY o.id DESC LIMIT ?`;
  const items = store
    .stmt(sql)
    .all(...params, limit.value)
    .map(toOrder);
  const last = items[items.length - 1];
  return success({
    items,
    nextCursor: items.length === limit.value && last ? encodeCursor('orders', last.id) : null,
  });
}

export interface EntryQuery {
  cursor?: string;
  limit?: number;
  /** Substring of the expression, case-insensitive. */
  q?: string;
  /** Expression prefix (uses the index: `example.com/` lists that domain entry, `example.com/a/` a path). */
  prefix?: string;
  kind?: EntryKind;
  category?: Category;
  active?: boolean;
  /** Only the entries this order holds (or held), in the order they were added. */
  orderId?: number;
}

const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A page of entries asked for, as SQL: conditions an index bounds, conditions it does not, and the sort key. */
export interface EntrySql {
  limit: number;
  byOrder: boolean;
  /** The key pages follow: `e.expression`, or `l.entry_id` within one order. */
  key: string;
  from: string;
  columns: string;
  /** Bounded by the key's index: the order, the cursor, the prefix. */
  indexed: Clause;
  /** Read row by row: substring, kind, category, active. */
  filters: Clause;
}

interface Clause {
  where: string[];
  params: unknown[];
}

export function entrySql(q: EntryQuery): RegistryResult<EntrySql> {
  const limit = pageSize(q.limit);
  if (!limit.ok) return limit;
  const byOrder = q.orderId !== undefined;
  const indexed: Clause = { where: [], params: [] };
  const filters: Clause = { where: [], params: [] };
  if (byOrder) {
    indexed.where.push('l.order_id = ?');
    indexed.params.push(q.orderId);
  }
  if (q.cursor !== undefined) {
    const after = byOrder
      ? decodeCursor(q.cursor, 'order-entries', 'number')
      : decodeCursor(q.cursor, 'entries', 'string');
    if (!after.ok) return after;
    indexed.where.push(byOrder ? 'l.entry_id > ?' : 'e.expression > ?');
    indexed.params.push(after.value);
  }
  if (q.prefix !== undefined && q.prefix !== '') {
    // Expressions are ASCII, so every expression starting with the prefix sorts below prefix + U+FFFF.
    (byOrder ? filters : indexed).where.push('e.expression >= ? AND e.expression < ?');
    (byOrder ? filters : indexed).params.push(q.prefix, `${q.prefix}\uffff`);
  }
  if (q.q !== undefined && q.q !== '') {
    filters.where.push("e.expression LIKE ? ESCAPE '\\'");
    filters.params.push(`%${likeEscape(q.q)}%`);
  }
  if (q.kind !== undefined)
    filters.where.push(q.kind === 'domain' ? isDomainSql('e') : `NOT ${isDomainSql('e')}`);
  if (q.category !== undefined) {
    filters.where.push('e.category = ?');
    filters.params.push(q.category);
  }
  if (q.active !== undefined) {
    filters.where.push('e.active = ?');
    filters.params.push(q.active ? 1 : 0);
  }
  return success({
    limit: limit.value,
    byOrder,
    key: byOrder ? 'l.entry_id' : 'e.expression',
    from: byOrder ? `order_entries l JOIN entries e ON e.id = l.entry_id` : 'entries e',
    columns: byOrder ? `${ENTRY_COLUMNS}, l.active AS link_active, l.removed_reason` : ENTRY_COLUMNS,
    indexed,
    filters,
  });
}

const whereOf = (...clauses: string[][]) => {
  const all = clauses.flat();
  return all.length ? `WHERE ${all.join(' AND ')}` : '';
};

/** The page's rows with the key in (`after`, `through`] (null: unbounded), at most `limit` of them. */
export function entryStepSql(sql: EntrySql, after: boolean, through: boolean): string {
  const range = [...(after ? [`${sql.key} > ?`] : []), ...(through ? [`${sql.key} <= ?`] : [])];
  return `SELECT ${sql.columns} FROM ${sql.from} ${whereOf(sql.indexed.where, range, sql.filters.where)}
    ORDER BY ${sql.key} LIMIT ?`;
}

/** The key of the `SEARCH_STEP_ROWS`-th row after `after` (null: from the start) in the index's range. */
export function entryStepEndSql(sql: EntrySql, after: boolean): string {
  const from = sql.byOrder ? 'order_entries l' : 'entries e';
  return `SELECT ${sql.key} FROM ${from} ${whereOf(sql.indexed.where, after ? [`${sql.key} > ?`] : [])}
    ORDER BY ${sql.key} LIMIT 1 OFFSET ${SEARCH_STEP_ROWS - 1}`;
}

function pageOf(sql: EntrySql, rows: unknown[]): Page<Entry> {
  const items = rows.map(sql.byOrder ? toOrderEntry : toEntry);
  const last = items[items.length - 1];
  let nextCursor: string | null = null;
  if (items.length === sql.limit && last) {
    nextCursor = sql.byOrder
      ? encodeCursor('order-entries', last.id)
      : encodeCursor('entries', last.expression);
  }
  return { items, nextCursor };
}

/**
 * Entries sorted by expression, or, with `orderId`, that order's entries in insertion order (items are then
 * OrderEntry, with the link's status).
 */
export function listEntries(store: Store, q: EntryQuery = {}): RegistryResult<Page<Entry>> {
  const sql = entrySql(q);
  if (!sql.ok) return sql;
  const { indexed, filters } = sql.value;
  const rows = store
    .stmt(entryStepSql(sql.value, false, false))
    .all(...indexed.params, ...filters.params, sql.value.limit);
  return success(pageOf(sql.value, rows));
}

/**
 * Rows a filtered search reads at most between two turns of the event loop: a substring or a rare category can
 * match nothing in 10M rows, which the index cannot skip.
 */
export const SEARCH_STEP_ROWS = 16_384;

/**
 * {@link listEntries}, with the same answer for the same rows, for the hub's event loop: a search with filters the
 * index does not bound reads the key's range in steps of at most SEARCH_STEP_ROWS rows and awaits `turn` between
 * them. Each step is its own read, so writes committed meanwhile show in the steps after them, as they would in
 * the next page.
 */
export async function searchEntries(
  store: Store,
  q: EntryQuery,
  turn: () => Promise<void>,
): Promise<RegistryResult<Page<Entry>>> {
  const found = entrySql(q);
  if (!found.ok) return found;
  const sql = found.value;
  if (sql.filters.where.length === 0) return listEntries(store, q);
  const rows: unknown[] = [];
  let after: unknown = null;
  for (;;) {
    const from = after === null ? [] : [after];
    const through = store
      .stmt(entryStepEndSql(sql, after !== null))
      .pluck()
      .get(...sql.indexed.params, ...from);
    const to = through === undefined ? [] : [through];
    const step = store
      .stmt(entryStepSql(sql, after !== null, through !== undefined))
      .all(...sql.indexed.params, ...from, ...to, ...sql.filters.params, sql.limit - rows.length);
    rows.push(...step);
    if (rows.length === sql.limit || through === undefined) return success(pageOf(sql, rows));
    after = through;
    await turn();
  }
}

/** An order with one page of its entries. */
export function getOrderWithEntries(
  store: Store,
  id: number,
  page: { cursor?: string; limit?: number } = {},
): RegistryResult<{ order: Order; entries: Page<OrderEntry> }> {
  const order = getOrder(store, id);
  if (order === null) return failure('not_found', `order ${id} does not exist`);
  const entries = listEntries(store, { ...page, orderId: id });
  if (!entries.ok) return entries;
  return success({ order, entries: entries.value as Page<OrderEntry> });
}

/** An entry by id or by exact expression. */
export function getEntry(store: Store, idOrExpression: number | string): Entry | null {
  const row =
    typeof idOrExpression === 'number'
      ? store.stmt(`SELECT ${ENTRY_COLUMNS} FROM entries e WHERE e.id = ?`).get(idOrExpression)
      : store.stmt(`SELECT ${ENTRY_COLUMNS} FROM entries e WHERE e.expression = ?`).get(idOrExpression);
  return row === undefined ? null : toEntry(row);
}

/**
 * The active entries among `expressions` (duplicates ignored), each with the active orders holding it, oldest
 * first. One indexed point lookup per expression; orders are read only for hits.
 */
export function matchExpressions(store: Store, expressions: readonly string[]): Match[] {
  const lookup = store.stmt(`SELECT ${ENTRY_COLUMNS} FROM entries e WHERE e.expression = ? AND e.active = 1`);
  const orders = store.stmt(
    `SELECT ${ORDER_REF_COLUMNS} FROM order_entries l JOIN orders o ON o.id = l.order_id
     WHERE l.entry_id = ? AND l.active = 1 AND o.status = 'active' ORDER BY o.id`,
  );
  const out: Match[] = [];
  const seen = new Set<string>();
  for (const expression of expressions) {
    if (seen.has(expression)) continue;
    seen.add(expression);
    const row = lookup.get(expression);
    if (row === undefined) continue;
    const entry = toEntry(row);
    out.push({ entry, orders: orders.all(entry.id).map(toOrderRef) });
  }
  return out;
}

/**
 * Everything known about each of `expressions` that has an entry or a release: the entry (active or not),
 * every order that ever held it with the link's and the order's fate, and its released-list row.
 */
export function entryHistories(store: Store, expressions: readonly string[]): EntryHistory[] {
  const entry = store.stmt(`SELECT ${ENTRY_COLUMNS} FROM entries e WHERE e.expression = ?`);
  const orders = store.stmt(
    `SELECT ${ORDER_REF_COLUMNS}, o.status, o.revoked_at, o.revoke_reason, o.ended_version,
       l.active AS link_active, l.removed_reason
     FROM order_entries l JOIN orders o ON o.id = l.order_id WHERE l.entry_id = ? ORDER BY o.id`,
  );
  const out: EntryHistory[] = [];
  for (const expression of new Set(expressions)) {
    const row = entry.get(expression);
    const released = releasedOf(store, expression);
    if (row === undefined && released === null) continue;
    const e = row === undefined ? null : toEntry(row);
    out.push({
      expression,
      kind: kindOf(expression),
      entry: e,
      orders:
        e === null
          ? []
          : orders.all(e.id).map((r) => {
              const o = r as {
                status: OrderStatus;
                revoked_at: string | null;
                revoke_reason: string | null;
                ended_version: number | null;
                link_active: number;
                removed_reason: string | null;
              };
              return {
                ...toOrderRef(r),
                status: o.status,
                linkStatus: o.link_active === 1 ? ('active' as const) : ('removed' as const),
                removedReason: o.removed_reason,
                revokedAt: o.revoked_at,
                revokeReason: o.revoke_reason,
                endedVersion: o.ended_version,
              };
            }),
      released,
    });
  }
  return out;
}

export interface ActiveEntryQuery {
  kinds?: readonly EntryKind[];
  excludeCategories?: readonly Category[];
}

/**
 * Every active entry sorted by expression (byte order), streamed. Consume it without writing through the same
 * registry in between (better-sqlite3 refuses writes while a statement is open): synchronously, or on a
 * registry opened `readonly` for the purpose.
 */
export function* activeEntries(store: Store, q: ActiveEntryQuery = {}): Generator<FeedEntry> {
  const where = ['e.active = 1'];
  const params: string[] = [];
  const domains = q.kinds === undefined || q.kinds.includes('domain');
  const urls = q.kinds === undefined || q.kinds.includes('url');
  if (!domains && !urls) return;
  if (!domains) where.push(`NOT ${isDomainSql('e')}`);
  if (!urls) where.push(isDomainSql('e'));
  if (q.excludeCategories !== undefined && q.excludeCategories.length > 0) {
    where.push(`e.category NOT IN (${q.excludeCategories.map(() => '?').join(', ')})`);
    params.push(...q.excludeCategories);
  }
  const sql = `SELECT e.expression, e.category, e.action FROM entries e WHERE ${where.join(' AND ')}
    ORDER BY e.expression`;
  // Prepared afresh: a cached statement could already be iterating for another caller.
  for (const row of store.db
    .prepare(sql)
    .raw()
    .iterate(...params)) {
    const [expression, category, action] = row as [string, Category, FeedEntry['action']];
    yield { expression, kind: kindOf(expression), category, action };
  }
}

/** An active entry as a scan reads it: expression, category, action. */
export type ActiveEntryRow = [expression: string, category: Category, action: FeedEntry['action']];

/**
 * Every active entry sorted by expression, in pages of up to `pageSize` rows (keyset pages: one statement
 * each, no statement left open between pages). Read inside one read transaction (`inReadTransaction`), or
 * pages may come from different versions; a page of raw rows costs far less per row than a streamed row.
 */
export function* activeEntryPages(store: Store, pageSize = 4096): Generator<ActiveEntryRow[]> {
  const page = store.db
    .prepare(
      `SELECT expression, category, action FROM entries WHERE active = 1 AND expression > ?
       ORDER BY expression LIMIT ?`,
    )
    .raw();
  let after = '';
  for (;;) {
    const rows = page.all(after, pageSize) as ActiveEntryRow[];
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < pageSize) return;
    after = (rows[rows.length - 1] as ActiveEntryRow)[0];
  }
}

export function versionInfo(store: Store, version: number): VersionInfo | null {
  const row = store.stmt('SELECT * FROM versions WHERE version = ?').get(version);
  return row === undefined ? null : toVersionInfo(row);
}
