/** The registry's public surface: open it with `openRegistry`, then use the `Registry` methods. */

export {
  CHANGE_FORMAT,
  CHANGE_FORMAT_2,
  type ChangeContent,
  changeHash,
  encodeChange,
  GENESIS_HASH,
} from './change-encoding.ts';
export type { ChangePage, ChangeQuery } from './change-queries.ts';
export { VersionRangeError } from './change-queries.ts';
export type {
  DryRun,
  ImportChunkResult,
  ImportOutcome,
  ImportSession,
  OrderOutcome,
  ResultCounts,
} from './create-order.ts';
export { countResults, describeCodes } from './create-order.ts';
export { DEFAULT_FOUR_EYES } from './four-eyes.ts';
export { RegistryCorruptError } from './integrity.ts';
export type { ConsistencyProof, InclusionProof, LogHead } from './log-queries.ts';
export { MigrationError } from './migrate.ts';
export { DEFAULT_TIME_ZONE } from './order-input.ts';
export { ProtectedDomainsError } from './protected-domains.ts';
export type { ActiveEntryQuery, EntryQuery, OrderQuery } from './queries.ts';
export { MAX_PAGE } from './queries.ts';
export { openRegistry, Registry, type RegistryOptions } from './registry.ts';
export type { ReleasedQuery } from './released.ts';
export { isTokenShaped, TOKEN_PREFIX } from './tokens.ts';
export * from './types.ts';
