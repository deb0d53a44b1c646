import type { z } from 'zod';
import * as r from './responses.ts';

/** One answer of a route: a JSON schema, or another media type described in words. */
export interface AnswerDoc {
  description: string;
  schema?: z.ZodType;
  /** Media type when not JSON (artifacts, the checkpoint note, HTML pages). */
  media?: string;
  example?: unknown;
}

/**
 * What only a person can say about a route: its purpose, its answers and the errors of its own logic. Request
 * schemas, roles and the errors of validation, authentication and body reading come from the route's middleware
 * (route-meta.ts); `document.ts` joins both, keyed by `METHOD /path` as Hono spells the path.
 */
export interface RouteDoc {
  summary: string;
  tag: string;
  answers: Record<number, AnswerDoc>;
  /** Errors this route's own logic answers with: status and codes. */
  errors?: Record<number, string[]>;
  /** An example request body (checked against the request schema by the tests). */
  requestExample?: unknown;
}

const json = (description: string, schema: z.ZodType, example?: unknown): AnswerDoc => ({
  description,
  schema,
  ...(example === undefined ? {} : { example }),
});
const octets = (description: string): AnswerDoc => ({ description, media: 'application/octet-stream' });
const htmlPage = (description: string): AnswerDoc => ({ description, media: 'text/html' });

const exampleOrder = {
  id: 7,
  reference: '5167/BTTTT-CATTT',
  authority: 'MIC',
  category: 'phishing',
  action: 'block',
  reason: 'credential phishing',
  issuedAt: '2026-05-01T03:00:00.000Z',
  expiresAt: null,
  createdAt: '2026-05-01T03:00:00.000Z',
  createdBy: 'token:2:mic-cattt',
  version: 12,
  status: 'active',
  revokedAt: null,
  revokeReason: null,
  endedVersion: null,
  override: null,
  entryCount: 2,
  approval: null,
  released: false,
};
const registryErrors = { 503: ['import_in_progress', 'registry_corrupt'], 507: ['storage_full'] };
const notFound = { 404: ['not_found'] };

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /healthz': {
    summary: 'Liveness and the current registry version',
    tag: 'health',
    answers: { 200: json('alive', r.health, { status: 'ok', version: 12 }) },
  },
  'GET /readyz': {
    summary: 'Readiness: feeds built, registry intact',
    tag: 'health',
    answers: { 200: json('ready', r.health), 503: json('starting or corrupt', r.health.partial()) },
    errors: { 503: ['registry_corrupt'] },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    tag: 'health',
    answers: { 200: { description: 'Prometheus text format 0.0.4', media: 'text/plain' } },
  },
  'GET /openapi.json': {
    summary: 'This document',
    tag: 'reference',
    answers: { 200: { description: 'OpenAPI 3.1 document', media: 'application/json' } },
  },
  'GET /docs': {
    summary: 'This document as a readable page',
    tag: 'reference',
    answers: { 200: htmlPage('the API reference') },
  },
  'GET /v1/keys': {
    summary: 'Public signing keys',
    tag: 'keys',
    answers: { 200: json('trusted keys', r.keys) },
  },
  'GET /v1/keys/keyset': {
    summary: 'The latest key-set artifact, or key set `version`',
    tag: 'keys',
    answers: { 200: octets('a signed key-set artifact') },
    errors: { 404: ['no_keyset'] },
  },
  'POST /v1/tokens': {
    summary: 'Mint a token (its text is shown once)',
    tag: 'tokens',
    answers: { 201: json('the new token', r.mintedToken) },
    errors: registryErrors,
    requestExample: { role: 'regulator', name: 'mic-cattt' },
  },
  'GET /v1/tokens': {
    summary: 'List tokens',
    tag: 'tokens',
    answers: { 200: json('every token, revoked ones too', r.tokenList) },
  },
  'DELETE /v1/tokens/:id': {
    summary: 'Revoke a token',
    tag: 'tokens',
    answers: { 200: json('the revoked token', r.tokenRevoked) },
    errors: { ...notFound, 409: ['conflict'] },
  },
  'POST /v1/orders': {
    summary: 'Create an order (atomic), or try it with `?dryRun=true`',
    tag: 'orders',
    answers: {
      200: json('dry run: what would happen, nothing written', r.dryRun),
      201: json('created: one new version', r.createdOrder, {
        order: exampleOrder,
        version: 12,
        results: [
          { target: 'evil-bank.example', kind: 'domain', expression: 'evil-bank.example/', status: 'added' },
        ],
        counts: { added: 1, alreadyActive: 0, duplicate: 0, pending: 0, rejected: 0, rejectedByCode: {} },
      }),
      202: json('pending: waits for a second regulator', r.createdOrder),
    },
    errors: { 422: ['targets_rejected', 'invalid_input'], ...registryErrors },
    requestExample: {
      reference: '5167/BTTTT-CATTT',
      authority: 'MIC',
      category: 'phishing',
      reason: 'credential phishing',
      targets: ['evil-bank.example', 'http://files.example.net/phish/login.php?id=7'],
    },
  },
  'GET /v1/orders': {
    summary: 'List orders (cursor pages, filters)',
    tag: 'orders',
    answers: { 200: json('a page of orders', r.orderPage, { orders: [exampleOrder], nextCursor: null }) },
    errors: { 400: ['bad_cursor'] },
  },
  'GET /v1/orders/:id': {
    summary: 'One order with a page of its entries',
    tag: 'orders',
    answers: { 200: json('the order', r.orderDetail) },
    errors: { ...notFound, 400: ['bad_cursor'] },
  },
  'POST /v1/orders/:id/revoke': {
    summary: 'Revoke an order; `release` marks its targets as false positives',
    tag: 'orders',
    answers: { 200: json('the new version', r.orderWrite, { version: 13, adds: 0, removes: 2 }) },
    errors: { ...notFound, 409: ['conflict'], ...registryErrors },
    requestExample: { reason: 'court ruling 12/2026 lifted the order' },
  },
  'POST /v1/orders/:id/extend': {
    summary: 'Change when an order expires',
    tag: 'orders',
    answers: { 200: json('the new version', r.orderWrite) },
    errors: { ...notFound, 409: ['conflict'], 422: ['invalid_input'], ...registryErrors },
    requestExample: { expiresAt: '2026-12-31', reason: 'renewed by decision 44/2026' },
  },
  'POST /v1/orders/:id/approve': {
    summary: 'Publish a pending order (a second regulator)',
    tag: 'orders',
    answers: { 200: json('published', r.createdOrder) },
    errors: { ...notFound, 403: ['self_approval'], 409: ['conflict', 'approval_expired'], ...registryErrors },
    requestExample: { reason: 'checked against the decision' },
  },
  'POST /v1/orders/:id/reject': {
    summary: 'End a pending order (a second regulator)',
    tag: 'orders',
    answers: { 200: json('rejected', r.orderWrite) },
    errors: { ...notFound, 403: ['self_approval'], 409: ['conflict', 'approval_expired'], ...registryErrors },
  },
  'GET /v1/entries': {
    summary: 'Search entries',
    tag: 'entries',
    answers: { 200: json('a page of entries', r.entryPage) },
    errors: { 400: ['bad_cursor'] },
  },
  'POST /v1/entries/revoke': {
    summary: 'Revoke one entry from every order holding it',
    tag: 'entries',
    answers: { 200: json('the new version', r.entryRevoked) },
    errors: { ...notFound, 422: ['invalid_input'], ...registryErrors },
  },
  'GET /v1/released': {
    summary: 'Targets revoked as false positives',
    tag: 'entries',
    answers: { 200: json('a page of released targets', r.releasedPage) },
    errors: { 400: ['bad_cursor'] },
  },
  'POST /v1/released/unrelease': {
    summary: 'Take a target off the released list',
    tag: 'entries',
    answers: { 200: json('the new version', r.orderWrite) },
    errors: { ...notFound, 422: ['invalid_input'], ...registryErrors },
  },
  'GET /v1/explain': {
    summary: 'Why a URL is blocked or not: canonical form, expressions, entries, orders, enforcement points',
    tag: 'lookup',
    answers: { 200: json('the explanation', r.explain) },
    errors: { 422: ['invalid_url', 'invalid_host'] },
  },
  'POST /v1/check': {
    summary: 'Blocked or not, for up to 1000 targets',
    tag: 'lookup',
    answers: {
      200: json('one result per target', r.checkResults, {
        version: 12,
        results: [{ target: 'http://other.example/', blocked: false }],
      }),
    },
    requestExample: { targets: ['https://login.evil-bank.example/x', 'http://other.example/'] },
  },
  'GET /v1/audit': {
    summary: 'The change log',
    tag: 'audit',
    answers: { 200: json('a page of changes', r.changePage) },
  },
  'GET /v1/audit/verify': {
    summary: 'Recompute the hash chain',
    tag: 'audit',
    answers: { 200: json('the chain check', r.chainReport, { ok: true, rows: 42 }) },
  },
  'POST /v1/distributors/report': {
    summary: 'A sync agent reports what it applied',
    tag: 'distributors',
    answers: { 200: json('recorded', r.reportAck) },
    errors: { 422: ['invalid_input'], ...registryErrors },
    requestExample: {
      agentId: 'resolver-1',
      feed: 'dns',
      version: 12,
      appliedAt: '2026-05-01T03:00:05Z',
      outputs: [{ format: 'rpz', path: '/etc/unbound/takedown.rpz', ok: true }],
    },
  },
  'GET /v1/distributors': {
    summary: 'Compliance view: applied version and lag per agent',
    tag: 'distributors',
    answers: { 200: json('one row per agent', r.distributorList) },
  },
  'GET /v1/feeds': {
    summary: 'The feeds and the latest version',
    tag: 'feeds',
    answers: { 200: json('feeds', r.feedList) },
  },
  'GET /v1/feeds/:feed/snapshot': {
    summary: 'The latest snapshot of a feed',
    tag: 'feeds',
    answers: { 200: octets('a signed snapshot artifact') },
    errors: { 404: ['unknown_feed'], 503: ['feed_not_ready'] },
  },
  'GET /v1/feeds/:feed/delta': {
    summary: 'A delta from `since` to the latest version (long-poll with `wait`)',
    tag: 'feeds',
    answers: { 200: octets('a signed delta artifact'), 304: { description: 'already current' } },
    errors: {
      404: ['unknown_feed'],
      409: ['resync_required'],
      410: ['resync_required'],
      503: ['feed_not_ready'],
    },
  },
  'POST /v1/feeds/filter/confirm': {
    summary: 'Hash search for filter consumers short of memory',
    tag: 'feeds',
    answers: { 200: json('the confirmed keys', r.confirmAnswer) },
    errors: { 503: ['feed_not_ready'] },
    requestExample: { bits: { root: 32, path: 32 }, keys: { root: [1234], path: [] } },
  },
  'POST /v1/probes/keys': {
    summary: "Pin the probe's Ed25519 public key",
    tag: 'probes',
    answers: { 200: json('already pinned', r.pinnedKey), 201: json('pinned', r.pinnedKey) },
    errors: { 409: ['conflict'], 422: ['bad_key'] },
  },
  'GET /v1/probes/plan': {
    summary: 'A sampling plan sized by a query budget',
    tag: 'probes',
    answers: { 200: json('the plan', r.probePlan) },
    errors: { 409: ['probe_key_required'] },
  },
  'POST /v1/probes/results': {
    summary: 'Signed probe observations, in batches',
    tag: 'probes',
    answers: { 201: json('recorded', r.probeRecorded) },
    errors: { 409: ['probe_key_required'], 422: ['bad_signature', 'not_in_plan', 'invalid_input'] },
  },
  'GET /v1/compliance': {
    summary: 'What probes observed per ISP',
    tag: 'distributors',
    answers: { 200: json('per ISP', r.compliance) },
  },
  'GET /v1/log/checkpoint': {
    summary: 'The signed checkpoint of the transparency log',
    tag: 'transparency',
    answers: { 200: { description: 'a C2SP signed note', media: 'text/plain' } },
    errors: { 404: ['not_found', 'log_empty'], 503: ['log_unavailable'] },
  },
  'GET /v1/log/proof/inclusion': {
    summary: 'Inclusion proof of a leaf in the tree of a version',
    tag: 'transparency',
    answers: { 200: json('the proof', r.inclusionProof) },
    errors: {
      ...notFound,
      404: ['not_found', 'log_empty'],
      422: ['invalid_input'],
      503: ['log_unavailable'],
    },
  },
  'GET /v1/log/proof/consistency': {
    summary: 'Consistency proof between two versions',
    tag: 'transparency',
    answers: { 200: json('the proof', r.consistencyProof) },
    errors: { 404: ['not_found', 'log_empty'], 422: ['invalid_input'], 503: ['log_unavailable'] },
  },
  'GET /v1/log/entries': {
    summary: 'Leaves of the transparency log',
    tag: 'transparency',
    answers: { 200: json('a page of leaves', r.logEntries) },
  },
  'GET /v1/transparency': {
    summary: 'The public transparency report',
    tag: 'transparency',
    answers: { 200: json('the report', r.transparency) },
  },
  'GET /transparency': {
    summary: 'The public transparency report as a page',
    tag: 'transparency',
    answers: { 200: htmlPage('the report') },
  },
};

/**
 * The console's pages and forms (`/console/...`): HTML for people, described once for all. Without a session
 * every one but sign-in, the language switch and the stylesheet redirects to sign-in.
 */
export function consoleDoc(method: string, path: string): RouteDoc {
  const open = ['/console/sign-in', '/console/lang/:lang', '/console/static/console.css'].includes(path);
  const answers: Record<number, AnswerDoc> =
    method === 'GET'
      ? {
          200: path.endsWith('.css')
            ? { description: 'stylesheet', media: 'text/css' }
            : htmlPage('the page'),
        }
      : { 303: { description: 'done: redirect to the page that shows the result' } };
  if (!open) answers[303] = { description: 'redirect (to sign-in when there is no session)' };
  if (method === 'POST')
    answers[403] = htmlPage('the form carried no valid CSRF token, or the role may not do this');
  return { summary: `Console: ${method} ${path}`, tag: 'console', answers };
}
