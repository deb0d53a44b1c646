/** The vocabulary shared by the hub, the sync agent and the edge worker (docs/ARCHITECTURE.md: entries and matching; versions, feeds and artifacts). */

export const CATEGORIES = [
  'malware',
  'phishing',
  'fraud',
  'csam',
  'gambling',
  'illegal-content',
  'disinformation',
  'botnet',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Categories that never appear in a plain feed unless configured otherwise. */
export const DEFAULT_CONFIDENTIAL_CATEGORIES: readonly Category[] = ['csam'];

export const ACTIONS = ['block', 'redirect'] as const;
export type Action = (typeof ACTIONS)[number];

/** `domain` blocks a host and its sub-domains; `url` blocks one page or a path prefix. */
export type EntryKind = 'domain' | 'url';

/** One blocked target as every feed sees it: the expression is the Safe Browsing `host/path[?query]` form. */
export interface FeedEntry {
  expression: string;
  kind: EntryKind;
  category: Category;
  action: Action;
}

/** The feeds the hub publishes and a consumer can follow (docs/ARCHITECTURE.md: versions, feeds and artifacts). */
export type FeedName = 'dns' | 'url' | 'filter';

export type ChangeOp = 'add' | 'remove';

/** One net change of a version, as the change log records it and deltas carry it. */
export interface Change extends FeedEntry {
  op: ChangeOp;
}

/**
 * A failure the caller is expected to handle, as a value: `code` is stable snake_case, `message` names the
 * input. Configuration that cannot work and broken invariants throw instead (docs/ARCHITECTURE.md: errors).
 */
export interface Failure {
  code: string;
  message: string;
}
export type Result<T> = { ok: true; value: T } | { ok: false; error: Failure };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(code: string, message: string): Result<T> => ({
  ok: false,
  error: { code, message },
});

/** The one error body of every HTTP answer, the hub's and the edge worker's: `{"error":{"code","message","details"?}}`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
