import { Hono } from 'hono';
import { html } from 'hono/html';
import { toBase64 } from '../../core/bytes.ts';
import type { AppDeps } from '../deps.ts';

/**
 * The public transparency report (no token): `GET /v1/transparency` as JSON and `GET /transparency` as a
 * server-rendered page without any script. Confidential categories appear only in the counts.
 */
export function transparencyRoutes({ registry, checkpoint, publicKeys }: AppDeps) {
  const report = async () => {
    const latest = (await checkpoint?.()) ?? null;
    return {
      checkpoint: latest && {
        version: latest.version,
        treeSize: latest.treeSize,
        rootHash: toBase64(latest.root),
        note: latest.note,
      },
      ...registry.transparencyStats(),
      confidentialCategories: registry.confidentialCategories(),
      verify: {
        publicKeys: publicKeys().map((k) => k.publicKey),
        checkpoint: '/v1/log/checkpoint',
        entries: '/v1/log/entries',
        inclusionProof: '/v1/log/proof/inclusion?version=V&leaf=I',
        consistencyProof: '/v1/log/proof/consistency?from=A&to=B',
        command: 'takedown log verify --hub URL --key signing.pub',
      },
    };
  };
  return new Hono()
    .get('/v1/transparency', async (c) => c.json(await report()))
    .get('/transparency', async (c) => {
      const r = await report();
      c.header('content-security-policy', "default-src 'none'");
      return c.html(html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>takedown transparency report</title></head>
<body>
<h1>Transparency report</h1>
<p>Every change of the blocklist is a leaf of a public Merkle tree (RFC 9162), tied to the legal order it
comes from. Entries of ${r.confidentialCategories.join(', ') || 'no'} categories are counted here but never
named: the log holds only a keyed commitment of them.</p>
<h2>Latest checkpoint</h2>
${
  r.checkpoint
    ? html`<p>Registry version ${r.checkpoint.version}, ${r.checkpoint.treeSize} leaves, root hash
<code>${r.checkpoint.rootHash}</code>.</p><pre>${r.checkpoint.note}</pre>`
    : html`<p>The log is empty.</p>`
}
<h2>Orders per month, authority and category</h2>
<table>
<tr><th>month</th><th>authority</th><th>category</th><th>orders</th></tr>
${r.orders.map((o) => html`<tr><td>${o.month}</td><td>${o.authority}</td><td>${o.category}</td><td>${o.count}</td></tr>`)}
</table>
<h2>Entries added and removed per month</h2>
<table>
<tr><th>month</th><th>added</th><th>removed</th></tr>
${r.entries.map((e) => html`<tr><td>${e.month}</td><td>${e.added}</td><td>${e.removed}</td></tr>`)}
</table>
<h2>Recent orders</h2>
<table>
<tr><th>reference</th><th>authority</th><th>category</th><th>issued</th><th>status</th><th>entries</th><th>reason</th></tr>
${r.recentOrders.map(
  (o) =>
    html`<tr><td>${o.reference}</td><td>${o.authority}</td><td>${o.category}</td><td>${o.issuedAt}</td><td>${o.status}</td><td>${o.entryCount}</td><td>${o.reason ?? ''}</td></tr>`,
)}
</table>
<h2>How to verify</h2>
<ol>
<li>Take the hub's public key from <a href="/v1/keys">/v1/keys</a> (base64, Ed25519): ${r.verify.publicKeys.map((k) => html`<code>${k}</code> `)}</li>
<li>Fetch the <a href="/v1/log/checkpoint">latest checkpoint</a>: a C2SP signed note of the tree size and root.</li>
<li>Run <code>${r.verify.command}</code>: it recomputes the tree from <a href="/v1/log/entries">every entry</a>,
checks the checkpoint of every registry version and that every change points at an order in the log.</li>
<li>Holding an older checkpoint (every feed artifact carries one)? Ask for
<code>${r.verify.consistencyProof}</code>: a proof that the newer tree extends yours.</li>
</ol>
</body>
</html>`);
    });
}
