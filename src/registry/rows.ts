/** Row -> object mapping for orders, entries and versions (SELECT lists and their mappers side by side). */

import { hostInfo } from '../core/host.ts';
import type { Action, Category, EntryKind } from '../core/types.ts';
import type {
  Entry,
  Order,
  OrderEntry,
  OrderRef,
  OrderStatus,
  ReleasedTarget,
  VersionInfo,
  VersionKind,
} from './types.ts';

export const ORDER_COLUMNS = `o.id, o.reference, o.authority, o.category, o.action, o.reason, o.issued_at, o.expires_at,
  o.created_at, o.created_by, o.version, o.status, o.revoked_at, o.revoke_reason, o.ended_version, o.override,
  o.entry_count, o.approval, o.released`;

interface OrderRow {
  id: number;
  reference: string;
  authority: string;
  category: Category;
  action: Action;
  reason: string | null;
  issued_at: string;
  expires_at: string | null;
  created_at: string;
  created_by: string;
  version: number;
  status: OrderStatus;
  revoked_at: string | null;
  revoke_reason: string | null;
  ended_version: number | null;
  override: string | null;
  entry_count: number;
  approval: string | null;
  released: number;
}

export function toOrder(r: unknown): Order {
  const row = r as OrderRow;
  return {
    id: row.id,
    reference: row.reference,
    authority: row.authority,
    category: row.category,
    action: row.action,
    reason: row.reason,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
    version: row.version,
    status: row.status,
    revokedAt: row.revoked_at,
    revokeReason: row.revoke_reason,
    endedVersion: row.ended_version,
    override: row.override === null ? null : JSON.parse(row.override),
    entryCount: row.entry_count,
    approval: row.approval === null ? null : JSON.parse(row.approval),
    released: row.released === 1,
  };
}

export const ORDER_REF_COLUMNS =
  'o.id, o.reference, o.authority, o.category, o.action, o.issued_at, o.expires_at';

export function toOrderRef(r: unknown): OrderRef {
  const row = r as OrderRow;
  return {
    id: row.id,
    reference: row.reference,
    authority: row.authority,
    category: row.category,
    action: row.action,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
  };
}

/** An expression's kind: a domain entry's expression is exactly `host/`. */
export function kindOf(expression: string): EntryKind {
  return expression.indexOf('/') === expression.length - 1 ? 'domain' : 'url';
}

/** SQL true for domain expressions of the table alias given (the same rule as kindOf). */
export const isDomainSql = (alias: string) => `instr(${alias}.expression, '/') = length(${alias}.expression)`;

export const ENTRY_COLUMNS = `e.id, e.expression, e.active, e.category, e.action, e.order_id, e.first_version,
  e.last_version`;

interface EntryRow {
  id: number;
  expression: string;
  active: number;
  category: Category;
  action: Action;
  order_id: number | null;
  first_version: number;
  last_version: number;
  link_active?: number;
  removed_reason?: string | null;
}

export function toEntry(r: unknown): Entry {
  const row = r as EntryRow;
  const host = row.expression.slice(0, row.expression.indexOf('/'));
  return {
    id: row.id,
    expression: row.expression,
    kind: kindOf(row.expression),
    host,
    registrableDomain: hostInfo(host).registrableDomain,
    active: row.active === 1,
    category: row.category,
    action: row.action,
    orderId: row.order_id,
    firstVersion: row.first_version,
    lastVersion: row.last_version,
  };
}

/** An entry row selected with ENTRY_COLUMNS plus `l.active AS link_active, l.removed_reason`. */
export function toOrderEntry(r: unknown): OrderEntry {
  const row = r as EntryRow;
  return {
    ...toEntry(row),
    linkStatus: row.link_active === 0 ? 'removed' : 'active',
    removedReason: row.removed_reason ?? null,
  };
}

interface VersionRow {
  version: number;
  created_at: string;
  kind: VersionKind;
  actor: string;
  summary: string;
  adds: number;
  removes: number;
  first_seq: number | null;
  last_seq: number | null;
  head_hash: Buffer;
}

export function toVersionInfo(r: unknown): VersionInfo {
  const row = r as VersionRow;
  return {
    version: row.version,
    createdAt: row.created_at,
    kind: row.kind,
    actor: row.actor,
    summary: row.summary,
    adds: row.adds,
    removes: row.removes,
    firstSeq: row.first_seq,
    lastSeq: row.last_seq,
    headHash: row.head_hash.toString('hex'),
  };
}

export const RELEASED_COLUMNS = `r.expression, r.active, r.order_id, r.version, r.released_at, r.released_by,
  r.reason, r.unreleased_at, r.unreleased_by, r.unreleased_reason, r.unreleased_version`;

interface ReleasedRow {
  expression: string;
  active: number;
  order_id: number;
  version: number;
  released_at: string;
  released_by: string;
  reason: string;
  unreleased_at: string | null;
  unreleased_by: string | null;
  unreleased_reason: string | null;
  unreleased_version: number | null;
}

export function toReleased(r: unknown): ReleasedTarget {
  const row = r as ReleasedRow;
  return {
    expression: row.expression,
    kind: kindOf(row.expression),
    active: row.active === 1,
    orderId: row.order_id,
    version: row.version,
    releasedAt: row.released_at,
    releasedBy: row.released_by,
    reason: row.reason,
    unreleasedAt: row.unreleased_at,
    unreleasedBy: row.unreleased_by,
    unreleasedReason: row.unreleased_reason,
    unreleasedVersion: row.unreleased_version,
  };
}
