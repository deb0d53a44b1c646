/** The registry's public vocabulary: what its API takes and returns. */

import type { Action, Category, EntryKind, FeedEntry } from '../core/types.ts';
import type { LogOp } from './change-encoding.ts';

/**
 * Stable failure codes of the registry API. `invalid_input`, `targets_rejected` -> 422; `not_found` -> 404;
 * `conflict` (e.g. revoking an order that is no longer active) -> 409; `approval_expired` -> 409 (a pending
 * order nobody decided on in time); `self_approval` -> 403 (the creator of a pending order decides on it);
 * `bad_cursor` -> 400; `import_in_progress` -> 503, retry later: an import holds this registry, or another
 * process (in practice a bulk import) held the write lock past the busy timeout; `storage_full` -> 507, the
 * disk (or the registry's size limit) is full and nothing was written. `registry_corrupt` -> 503: an integrity check failed, the file must be
 * restored from a backup.
 */
export type RegistryErrorCode =
  | 'invalid_input'
  | 'targets_rejected'
  | 'not_found'
  | 'conflict'
  | 'approval_expired'
  | 'self_approval'
  | 'bad_cursor'
  | 'import_in_progress'
  | 'storage_full'
  | 'registry_corrupt';

/** A registry failure; `details` carries the per-target results of a rejected order. */
export interface RegistryError {
  code: RegistryErrorCode;
  message: string;
  details?: TargetResult[];
}

/** Like core's Result, with the registry's error codes (assignable to `Result<T>`). */
export type RegistryResult<T> = { ok: true; value: T } | { ok: false; error: RegistryError };

/**
 * The safety rails (docs/ARCHITECTURE.md, entries and matching); each is also the rejection code of a target that trips it. `released`: the target was
 * revoked as a false positive (see `ReleasedTarget`).
 */
export type Rail = 'public_suffix' | 'protected_domain' | 'ip_literal' | 'released';

/**
 * `pending`: waits for a second regulator (four-eyes), holds no entry and is in no feed; it becomes `active`
 * when approved, `rejected` when rejected, `expired` when nobody decided in time.
 */
export const ORDER_STATUSES = ['pending', 'active', 'revoked', 'expired', 'rejected'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** What a regulator submits. Dates are ISO-8601 strings or Dates. */
export interface OrderInput {
  reference: string;
  authority: string;
  category: Category;
  /** Default `block`. */
  action?: Action;
  reason?: string | null;
  /** Default: now. */
  issuedAt?: string | Date;
  /** Absent or null: no expiry. Must lie in the future. */
  expiresAt?: string | Date | null;
  targets: string[];
  /** Accept targets that trip a safety rail; the reason is recorded in the order and the change log. */
  override?: { reason: string };
}

/** The audit record of an override: who accepted which rails for which expressions, and why. */
export interface OrderOverride {
  reason: string;
  actor: string;
  rails: Rail[];
  /** The expressions accepted thanks to the override (at most the first 1000 are kept). */
  targets: string[];
}

export interface Order {
  id: number;
  reference: string;
  authority: string;
  category: Category;
  action: Action;
  reason: string | null;
  issuedAt: string;
  expiresAt: string | null;
  createdAt: string;
  createdBy: string;
  /** The version that published it (null while pending, or when it never was). */
  version: number | null;
  status: OrderStatus;
  revokedAt: string | null;
  revokeReason: string | null;
  /** The version that revoked or expired it. */
  endedVersion: number | null;
  override: OrderOverride | null;
  /** How many distinct entries the order holds (or held; for a pending order, the distinct targets). */
  entryCount: number;
  /** Why the order needed a second regulator, and the decision; null for an order published at once. */
  approval: OrderApproval | null;
  /** True when its revocation released its entries as false positives. */
  released: boolean;
}

/** Why an order needs a second regulator (four-eyes). */
export type ApprovalCode =
  | 'too_many_targets'
  | 'override'
  | 'protected_target'
  | 'popular_target'
  | 'crowded_domain';

export interface ApprovalReason {
  code: ApprovalCode;
  message: string;
}

export interface OrderApproval {
  reasons: ApprovalReason[];
  requestedBy: string;
  /** A pending order nobody decides on by then expires. */
  expiresAt: string;
  decision?: 'approved' | 'rejected' | 'expired';
  by?: string;
  at?: string;
  reason?: string;
}

/** A target revoked as a false positive: later orders naming it are refused unless they override. */
export interface ReleasedTarget {
  expression: string;
  kind: EntryKind;
  /** False once a regulator un-released it. */
  active: boolean;
  /** The order it was released from, the version that did it, when, by whom and why. */
  orderId: number;
  version: number;
  releasedAt: string;
  releasedBy: string;
  reason: string;
  unreleasedAt: string | null;
  unreleasedBy: string | null;
  unreleasedReason: string | null;
  unreleasedVersion: number | null;
}

/**
 * One target of an order. `added`: the entry became active; `already-active`: another order already held it
 * (this order holds it too); `duplicate`: the same expression appeared earlier in this order; `rejected`: see
 * `code`; `accepted`: only in the results of a rejected order, this target was fine but nothing was written;
 * `pending`: the order waits for a second regulator.
 */
export type TargetStatus = 'added' | 'already-active' | 'duplicate' | 'rejected' | 'accepted' | 'pending';

export interface TargetResult {
  target: string;
  kind?: EntryKind;
  expression?: string;
  status: TargetStatus;
  /** A parse error code (`invalid_host`, ...) or the first rail tripped. */
  code?: string;
  message?: string;
  /** Rails tripped by this target (accepted only when the order overrides them). */
  rails?: Rail[];
  /** For `released`: the release that refuses it. */
  release?: Pick<ReleasedTarget, 'orderId' | 'version' | 'releasedAt' | 'reason'>;
}

export interface Entry extends FeedEntry {
  id: number;
  host: string;
  registrableDomain: string | null;
  active: boolean;
  /** The oldest active order holding the entry; for an inactive entry, the last order that held it. */
  orderId: number | null;
  firstVersion: number;
  lastVersion: number;
}

/** An entry as one order sees it: `linkStatus` is `removed` after `revokeEntry`. */
export interface OrderEntry extends Entry {
  linkStatus: 'active' | 'removed';
  removedReason: string | null;
}

/** A short view of an order, as matches carry it. */
export interface OrderRef {
  id: number;
  reference: string;
  authority: string;
  category: Category;
  action: Action;
  issuedAt: string;
  expiresAt: string | null;
}

/** An active entry matched by `matchExpressions`, with every active order holding it (oldest first). */
export interface Match {
  entry: Entry;
  orders: OrderRef[];
}

/**
 * One change-log row. Hashes are lowercase hex. `op` is `add` or `remove` for a change of an entry, or a
 * decision that changes none (`revoke`, `extend`, `approve`, `reject`: `expression` and `kind` are ''; or
 * `unrelease`). `approval` is the JSON text of a second regulator's decision, as hashed, or ''. Format-1 rows
 * (written before decisions were hashed) have reason '', release false, approval ''.
 */
export interface ChangeRecord {
  seq: number;
  format: number;
  version: number;
  op: LogOp;
  expression: string;
  kind: EntryKind | '';
  category: Category;
  action: Action;
  orderId: number;
  orderRef: string;
  actor: string;
  note: string;
  reason: string;
  release: boolean;
  approval: string;
  prevHash: string;
  hash: string;
}

/** What the registry knows about one expression: its entry, every order that ever held it, its release. */
export interface EntryHistory {
  expression: string;
  kind: EntryKind;
  entry: Entry | null;
  orders: Array<
    OrderRef & {
      status: OrderStatus;
      /** `removed` after `revokeEntry` took the entry out of this order. */
      linkStatus: 'active' | 'removed';
      removedReason: string | null;
      revokedAt: string | null;
      revokeReason: string | null;
      endedVersion: number | null;
    }
  >;
  released: ReleasedTarget | null;
}

export type VersionKind =
  | 'order'
  | 'import'
  | 'revoke'
  | 'revoke-entry'
  | 'extend'
  | 'expire'
  | 'approve'
  | 'reject'
  | 'unrelease';

export interface VersionInfo {
  version: number;
  createdAt: string;
  kind: VersionKind;
  actor: string;
  summary: string;
  adds: number;
  removes: number;
  /** The change-log rows of this version (null when it changed no entry). */
  firstSeq: number | null;
  lastSeq: number | null;
  /** Chain head after this version (hex). */
  headHash: string;
}

/** The outcome of a write: its new version and net change counts. */
export interface WriteOutcome {
  version: number;
  adds: number;
  removes: number;
}

export interface CreatedOrder extends WriteOutcome {
  order: Order;
  results: TargetResult[];
}

export interface ChainReport {
  ok: boolean;
  rows: number;
  /** The seq of the first row that fails (or, for a truncated log, the first missing seq). */
  brokenAt?: number;
  reason?: string;
}

/** A page of a keyset-paginated listing; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const TOKEN_ROLES = ['admin', 'regulator', 'auditor', 'distributor', 'prober'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export interface TokenInfo {
  id: number;
  name: string;
  role: TokenRole;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** The principal behind a valid token. */
export interface Principal {
  id: number;
  role: TokenRole;
  name: string;
}

/** A sync agent's report: it applied `version` of `feed` at `appliedAt` and wrote `outputs`. */
export interface DistributorReport {
  /** The reporting agent's id; absent or '' for an agent that sends none (one row for its token). */
  agentId?: string;
  feed: string;
  version: number;
  appliedAt: string | Date;
  outputs: unknown;
  /** The transparency-log checkpoint of `version` the agent enforces. */
  checkpoint?: ReportedCheckpoint;
}

/** A checkpoint as agents report it: the registry version, its tree size and root (base64). */
export interface ReportedCheckpoint {
  version: number;
  treeSize: number;
  rootHash: string;
}

export interface DistributorStatus {
  tokenId: number;
  agentId: string;
  name: string;
  tokenRevoked: boolean;
  feed: string;
  version: number;
  appliedAt: string;
  reportedAt: string;
  outputs: unknown;
  /**
   * The checkpoint reported with the version (null: none); `matchesHub` compares its root with the hub's own
   * tree of that version (null when the hub has no such version in its log).
   */
  checkpoint: (ReportedCheckpoint & { matchesHub: boolean | null }) | null;
}

/** One version for which the distributors' reported roots disagree with each other or with the hub. */
export interface SplitView {
  version: number;
  /** The hub's own root of that version (base64), null when its log has none. */
  hubRootHash: string | null;
  roots: Array<{
    treeSize: number;
    rootHash: string;
    matchesHub: boolean | null;
    agents: Array<{ tokenId: number; agentId: string; name: string; feed: string }>;
  }>;
}
