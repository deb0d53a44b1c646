/** API bearer tokens: random, shown once, stored only as SHA-256 hashes. */

import { createHash, randomBytes } from 'node:crypto';
import { failure, type Store, success } from './store.ts';
import { type Principal, type RegistryResult, TOKEN_ROLES, type TokenInfo, type TokenRole } from './types.ts';

/** Every token starts with this, so a leaked one is recognisable (e.g. by secret scanners). */
export const TOKEN_PREFIX = 'tdk_';
/** `tdk_` + base64url of 32 random bytes. */
const TOKEN_SHAPE = /^tdk_[A-Za-z0-9_-]{43}$/;
/** last_used_at is a write; refreshing it at most once a minute keeps polling agents from writing per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** True when `token` has the shape of a takedown token (it may still be unknown or revoked). */
export const isTokenShaped = (token: string): boolean => TOKEN_SHAPE.test(token);

/**
 * Creates a token and returns its text, the only time it is ever available. `token` is given only to import a
 * known value (the operator's TAKEDOWN_ADMIN_TOKEN); it must have the same shape as generated ones.
 */
export function createToken(
  store: Store,
  role: TokenRole,
  name: string,
  token: string = TOKEN_PREFIX + randomBytes(32).toString('base64url'),
): RegistryResult<{ id: number; token: string }> {
  if (!(TOKEN_ROLES as readonly string[]).includes(role)) {
    return failure('invalid_input', `role '${String(role)}' is not one of ${TOKEN_ROLES.join(', ')}`);
  }
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    return failure('invalid_input', 'a token needs a name of 1 to 200 characters');
  }
  if (!isTokenShaped(token)) {
    return failure('invalid_input', `a token must be '${TOKEN_PREFIX}' followed by 43 base64url characters`);
  }
  const hash = tokenHash(token);
  return store.write(() => {
    if (store.stmt('SELECT 1 FROM tokens WHERE token_hash = ?').get(hash) !== undefined) {
      return failure('conflict', `a token named '${name.trim()}' cannot reuse an existing token`);
    }
    const id = store
      .stmt('INSERT INTO tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(name.trim(), role, hash, store.nowIso()).lastInsertRowid;
    return success({ id: Number(id), token });
  });
}

interface TokenRow {
  id: number;
  name: string;
  role: TokenRole;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

const toTokenInfo = (r: TokenRow): TokenInfo => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

/** Every token ever created (never the token text), oldest first. */
export function listTokens(store: Store): TokenInfo[] {
  return (
    store
      .stmt('SELECT id, name, role, created_at, revoked_at, last_used_at FROM tokens ORDER BY id')
      .all() as TokenRow[]
  ).map(toTokenInfo);
}

export function revokeToken(store: Store, id: number): RegistryResult<TokenInfo> {
  return store.write(() => {
    const row = store
      .stmt('SELECT id, name, role, created_at, revoked_at, last_used_at FROM tokens WHERE id = ?')
      .get(id) as TokenRow | undefined;
    if (row === undefined) return failure('not_found', `token ${id} does not exist`);
    if (row.revoked_at !== null) return failure('conflict', `token ${id} is already revoked`);
    const at = store.nowIso();
    store.stmt('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(at, id);
    return success(toTokenInfo({ ...row, revoked_at: at }));
  });
}

/**
 * The principal behind a live token, or null. The lookup is by the token's SHA-256, so no constant-time compare
 * is needed: timing can at most reveal bits of a hash, and knowing a hash does not help anyone find a token
 * that produces it.
 */
export function authenticate(store: Store, token: string): Principal | null {
  if (typeof token !== 'string' || !isTokenShaped(token)) return null;
  const row = store
    .stmt('SELECT id, name, role, revoked_at, last_used_at FROM tokens WHERE token_hash = ?')
    .get(tokenHash(token)) as TokenRow | undefined;
  if (row === undefined || row.revoked_at !== null) return null;
  const now = store.now();
  const stale =
    row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS;
  if (stale) {
    store.tryWrite(() =>
      store.stmt('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now.toISOString(), row.id),
    );
  }
  return { id: row.id, role: row.role, name: row.name };
}
