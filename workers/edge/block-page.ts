/**
 * The answer for a blocked URL: HTTP 451 Unavailable For Legal Reasons (RFC 7725) with a `blocked-by` link
 * to the operator that implements the block, and a body naming the order and how to appeal, as HTML for
 * browsers and as JSON (the project's error envelope) for API clients.
 */

import { errorBody } from '../../src/core/types.ts';
import { prefersHtml } from './negotiate.ts';
import type { OrderSummary } from './order-lookup.ts';

export interface BlockNotice {
  /** The URL as requested. */
  url: string;
  blockedBy: string;
  appealUrl: string;
  /** The orders holding the URL; null when the hub could not say (the feed itself carries only hashes). */
  orders: OrderSummary[] | null;
  feedVersion: number;
}

export const ORDERS_UNAVAILABLE = 'order reference unavailable';

/** The 451 response for `notice`, negotiated on the request's Accept header. */
export function blockedResponse(notice: BlockNotice, request: Request): Response {
  const html = prefersHtml(request.headers.get('accept'));
  const headers = new Headers({
    link: `<${notice.blockedBy}>; rel="blocked-by"`,
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    // A revocation must take effect at once: no cache may keep this answer.
    'cache-control': 'no-store',
    vary: 'accept',
  });
  const body =
    request.method === 'HEAD' ? null : html ? renderHtml(notice) : JSON.stringify(jsonBody(notice));
  return new Response(body, { status: 451, statusText: 'Unavailable For Legal Reasons', headers });
}

/** The JSON body, in the `{"error": {"code", "message", "details"}}` envelope the hub's API uses. */
export function jsonBody(notice: BlockNotice) {
  return errorBody('unavailable_for_legal_reasons', `${notice.url} is blocked by legal order`, {
    url: notice.url,
    blockedBy: notice.blockedBy,
    orders: notice.orders ?? [],
    ...(notice.orders ? {} : { ordersNote: ORDERS_UNAVAILABLE }),
    appeal: appealText(notice),
    appealUrl: notice.appealUrl,
    feedVersion: notice.feedVersion,
  });
}

function appealText(notice: BlockNotice): string {
  const who = notice.orders?.length
    ? `the issuing authority (${[...new Set(notice.orders.map((o) => o.authority))].join(', ')}), quoting the order reference`
    : 'the operator implementing the block';
  return `To appeal, contact ${who}; see ${notice.appealUrl}.`;
}

function renderHtml(notice: BlockNotice): string {
  const rows = notice.orders?.length
    ? notice.orders
        .map(
          (o) =>
            `<tr><td>${esc(o.reference)}</td><td>${esc(o.authority)}</td><td>${esc(o.issuedAt.slice(0, 10))}</td></tr>`,
        )
        .join('\n')
    : `<tr><td colspan="3">${ORDERS_UNAVAILABLE}</td></tr>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>451 Unavailable For Legal Reasons</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;line-height:1.5}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}code{word-break:break-all}</style>
</head>
<body>
<h1>Unavailable for legal reasons</h1>
<p>Access to <code>${esc(notice.url)}</code> is blocked by legal order.</p>
<table>
<tr><th>Order reference</th><th>Issuing authority</th><th>Date</th></tr>
${rows}
</table>
<p>The block is implemented by <a href="${esc(notice.blockedBy)}">${esc(notice.blockedBy)}</a>.</p>
<p>${esc(appealText(notice))} <a href="${esc(notice.appealUrl)}">How to appeal</a>.</p>
</body>
</html>
`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
