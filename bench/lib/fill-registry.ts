/** Fills a registry with a list through the bulk import path, as an operator's `takedown import` would. */

import { randomBytes } from 'node:crypto';
import { openRegistry } from '../../src/registry/registry.ts';

/** A token text of the shape the registry accepts, for TAKEDOWN_ADMIN_TOKEN. */
export const newToken = () => `tdk_${randomBytes(32).toString('base64url')}`;

/** Imports `names` as one order into the registry at `dbPath` (created if needed); returns the entries added. */
export function fillRegistry(dbPath: string, names: readonly string[], chunk = 5000): number {
  const registry = openRegistry(dbPath, { protectedDomainsFile: null });
  try {
    const begun = registry.beginImport(
      { reference: 'BENCH/FILL', authority: 'bench', category: 'other' },
      'bench',
    );
    if (!begun.ok) throw new Error(begun.error.message);
    for (let i = 0; i < names.length; i += chunk) begun.value.add(names.slice(i, i + chunk));
    return begun.value.commit().totals.added;
  } finally {
    registry.close();
  }
}
