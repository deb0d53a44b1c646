/** Opaque keyset cursors: base64url of `{"l": listing, "k": last key}`. */

import { failure, success } from './store.ts';
import type { RegistryResult } from './types.ts';

/** The listings that hand out cursors; a cursor of one listing is refused by another. */
export type Listing = 'orders' | 'entries' | 'order-entries' | 'changes' | 'released';

export function encodeCursor(listing: Listing, key: string | number): string {
  return Buffer.from(JSON.stringify({ l: listing, k: key })).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The key inside a cursor of `listing`, or `bad_cursor`. */
export function decodeCursor<K extends 'string' | 'number'>(
  cursor: string,
  listing: Listing,
  keyType: K,
): RegistryResult<K extends 'string' ? string : number> {
  const bad = failure<never>(
    'bad_cursor',
    `cursor '${cursor.slice(0, 80)}' is not a cursor of this ${listing} listing`,
  );
  if (cursor.length > 4096 || !BASE64URL.test(cursor)) return bad;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return bad;
  }
  if (typeof parsed !== 'object' || parsed === null) return bad;
  const { l, k } = parsed as { l?: unknown; k?: unknown };
  if (l !== listing || typeof k !== keyType) return bad;
  if (typeof k === 'number' && !Number.isSafeInteger(k)) return bad;
  return success(k as K extends 'string' ? string : number);
}
