/** The registry's public surface: open it with `openRegistry`, then use the `Registry` methods. */

export {
  CHANGE_FORMAT,
  type ChangeContent,
  changeHash,
  encodeChange,
  GENESIS_HASH,
} from './change-encoding.ts';
export type { ChangePage, ChangeQuery } from './change-queries.ts';
export { VersionRangeError } from './change-queries.ts';
export type { ImportChunkResult, ImportOutcome, ImportSession } from './create-order.ts';
export type { ConsistencyProof, InclusionProof, LogHead } from './log-queries.ts';
export { MigrationError } from './migrate.ts';
export { ProtectedDomainsError } from './protected-domains.ts';
export type { ActiveEntryQuery, EntryQuery, OrderQuery } from './queries.ts';
export { MAX_PAGE } from './queries.ts';
export { openRegistry, Registry, type RegistryOptions } from './registry.ts';
export { isTokenShaped, TOKEN_PREFIX } from './tokens.ts';
export * from './types.ts';
