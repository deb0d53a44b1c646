/** The public transparency summary: counts per month, authority and category, and recent orders. */
import type { Category } from '../core/types.ts';
import type { Store } from './store.ts';

export interface TransparencyStats {
  /** Orders created per month (UTC, `YYYY-MM`), authority and category, newest month first. */
  orders: Array<{ month: string; authority: string; category: Category; count: number }>;
  /** Entries added and removed per month, over every category. */
  entries: Array<{ month: string; added: number; removed: number }>;
  /** The latest orders of non-confidential categories (confidential ones appear only in the counts). */
  recentOrders: Array<{
    id: number;
    reference: string;
    authority: string;
    category: Category;
    reason: string | null;
    issuedAt: string;
    status: string;
    entryCount: number;
  }>;
}

const RECENT = 20;

export function transparencyStats(store: Store, confidential: readonly Category[]): TransparencyStats {
  const orders = store
    .stmt(
      `SELECT substr(created_at, 1, 7) AS month, authority, category, count(*) AS count FROM orders
       GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2, 3`,
    )
    .all() as TransparencyStats['orders'];
  const entries = store
    .stmt(
      `SELECT substr(created_at, 1, 7) AS month, sum(adds) AS added, sum(removes) AS removed FROM versions
       GROUP BY 1 ORDER BY 1 DESC`,
    )
    .all() as TransparencyStats['entries'];
  const hidden = JSON.stringify(confidential);
  const recentOrders = store
    .stmt(
      `SELECT id, reference, authority, category, reason, issued_at AS issuedAt, status, entry_count AS entryCount
       FROM orders WHERE category NOT IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ${RECENT}`,
    )
    .all(hidden) as TransparencyStats['recentOrders'];
  return { orders, entries, recentOrders };
}
