import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeArtifact, type ManifestInput } from '../../../src/core/artifact.ts';
import { toBase64, utf8 } from '../../../src/core/bytes.ts';
import { signCheckpoint } from '../../../src/core/checkpoint.ts';
import type { SigningKey } from '../../../src/core/keys.ts';
import {
  consistencyProof,
  hashChildren,
  hashLeaf,
  type NodeReader,
  treeRoot,
} from '../../../src/core/merkle.ts';
import { encodeDelta } from '../../../src/core/plain-payload.ts';
import { diff, PlainState } from '../../../src/core/plain-state.ts';
import type { FeedEntry } from '../../../src/core/types.ts';

// A tiny hub on loopback serving a signed `dns` feed the way the real one does (snapshot, delta with
// 304 and long-poll, resync, a transparency log with one leaf per version and its consistency proofs),
// whose answers a test can replace with crafted bytes.

export const DAY = 86_400_000;

/** A `domain` entry of the dns feed for a host name. */
export const domain = (name: string, action: FeedEntry['action'] = 'block'): FeedEntry => ({
  expression: `${name}/`,
  kind: 'domain',
  category: 'malware',
  action,
});

/** `count` synthetic names under `.test` (sorted by the state that holds them). */
export const manyDomains = (count: number, prefix = 'host'): FeedEntry[] =>
  Array.from({ length: count }, (_, i) => domain(`${prefix}-${i.toString(36)}.bulk.test`));

export interface Crafted {
  status: number;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
}

/** An answer replacing the feed's for the paths `match` accepts: crafted, or written by `respond` itself. */
export type Override = {
  match: (path: string) => boolean;
  once?: boolean;
} & ({ answer: () => Crafted | Promise<Crafted> } | { respond: (res: ServerResponse) => void });

export interface ManifestOverrides {
  feed?: string;
  from?: number;
  to?: number;
  createdAt?: number;
  expiresAt?: number;
  entryCount?: number;
  checksum?: string;
  checkpoint?: string;
}

export class FakeHub {
  /** Signs every artifact; replace it to act as a hub whose key the agent does not trust. */
  key: SigningKey;
  readonly versions = new Map<number, PlainState>();
  latest = 0;
  /** Compliance reports received, parsed. */
  readonly reports: Array<{
    agentId?: string;
    feed: string;
    version: number;
    appliedAt: string;
    outputs: unknown[];
    checkpoint?: { version: number; treeSize: number; rootHash: string };
  }> = [];
  /** Snapshots sent whole (200), as opposed to 304 for an ETag the agent already holds. */
  snapshotsSent = 0;
  /** Paths requested (with query), in order. */
  readonly requests: string[] = [];
  /** Answers the next requests instead of the feed (first match wins; `once` ones are then removed). */
  readonly overrides: Override[] = [];
  /** Bearer token required; undefined: any. */
  token: string | undefined;
  /** The transparency log's leaves (one per published version) and each version's tree size. */
  readonly leaves: Uint8Array[] = [];
  readonly treeSizes = new Map<number, number>([[0, 0]]);
  /** Whether artifacts carry checkpoints (false: format-1-like artifacts without one). */
  checkpoints = true;
  /** Answer proof requests with 503 (the log's route is down). */
  proofsDown = false;
  /** Consistency proofs requested (kept apart from `requests`, which lists the feed's). */
  readonly proofRequests: string[] = [];
  /** Where compliance reports go besides `reports` (e.g. a real hub). */
  forwardReports: ((body: unknown) => Promise<void>) | undefined;
  #server: Server | undefined;
  #waiters = new Set<() => void>();
  port = 0;

  constructor(key: SigningKey) {
    this.key = key;
    this.versions.set(0, PlainState.empty());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Makes `entries` the latest version (`latest + 1` unless given) and wakes long-polls. */
  publish(entries: Iterable<FeedEntry>, version = this.latest + 1): number {
    const state = PlainState.fromEntries(entries);
    this.versions.set(version, state);
    this.leaves.push(utf8(`version ${version}: ${state.entryCount} entries`));
    this.treeSizes.set(version, this.leaves.length);
    this.latest = version;
    for (const wake of this.#waiters) wake();
    return version;
  }

  /** Rewrites leaf `index` of the log, as a hub that changed its history would: later trees change. */
  rewriteLeaf(index: number, text: string): void {
    this.leaves[index] = utf8(text);
  }

  /** The signed checkpoint of `version` (signed by `key`). */
  checkpoint(version: number, key = this.key): Promise<string> {
    const treeSize = this.treeSizes.get(version) ?? this.leaves.length;
    return signCheckpoint(
      { origin: 'takedown', treeSize, root: treeRoot(this.#nodes, treeSize), version },
      key,
    );
  }

  /** Complete-subtree hashes of the log, recomputed from the leaves (a test log is small). */
  readonly #nodes: NodeReader = (level, index) =>
    level === 0
      ? hashLeaf(this.leaves[index] as Uint8Array)
      : hashChildren(this.#nodes(level - 1, 2 * index), this.#nodes(level - 1, 2 * index + 1));

  stateAt(version: number): PlainState {
    const state = this.versions.get(version);
    if (!state) throw new Error(`fake hub has no version ${version}`);
    return state;
  }

  /** The signed snapshot of `version`, the manifest optionally falsified. */
  async snapshot(
    version = this.latest,
    overrides: ManifestOverrides = {},
    key = this.key,
  ): Promise<Uint8Array> {
    const state = this.stateAt(version);
    return encodeArtifact(
      await this.#manifest('snapshot', 0, version, state, overrides, key),
      state.toSnapshotPayload(),
      key,
    );
  }

  /** The signed delta `from` -> `to`. */
  async delta(from: number, to = this.latest, overrides: ManifestOverrides = {}): Promise<Uint8Array> {
    const state = this.stateAt(to);
    const payload = encodeDelta(diff(this.stateAt(from), state));
    return encodeArtifact(await this.#manifest('delta', from, to, state, overrides), payload, this.key);
  }

  async listen(port = 0): Promise<void> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: Error) => {
        res.writeHead(500).end(error.message);
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** Stops answering (the port is closed: the hub is unreachable). */
  async close(): Promise<void> {
    for (const wake of this.#waiters) wake();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #manifest(
    kind: 'snapshot' | 'delta',
    from: number,
    to: number,
    state: PlainState,
    o: ManifestOverrides,
    key = this.key,
  ): Promise<ManifestInput> {
    const createdAt = o.createdAt ?? Date.now();
    const checkpoint = o.checkpoint ?? (this.checkpoints ? await this.checkpoint(o.to ?? to, key) : '');
    return {
      checkpoint,
      kind,
      feed: o.feed ?? 'dns',
      from: o.from ?? from,
      to: o.to ?? to,
      createdAt,
      expiresAt: o.expiresAt ?? createdAt + DAY,
      entryCount: o.entryCount ?? state.entryCount,
      checksum: o.checksum ?? (await state.checksum()),
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const url = new URL(path, 'http://hub');
    if (url.pathname === '/v1/log/proof/consistency') return this.#consistency(url, res);
    this.requests.push(path);
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      return send(res, { status: 401, body: '{"error":{"code":"unauthorized","message":"bad token"}}' });
    }
    const override = this.overrides.findIndex((o) => o.match(path));
    if (override !== -1) {
      const chosen = this.overrides[override] as Override;
      if (chosen.once) this.overrides.splice(override, 1);
      if ('respond' in chosen) return chosen.respond(res);
      return send(res, await chosen.answer());
    }
    if (req.method === 'POST' && url.pathname === '/v1/distributors/report') {
      let body = '';
      for await (const chunk of req) body += chunk;
      this.reports.push(JSON.parse(body));
      await this.forwardReports?.(JSON.parse(body));
      return send(res, { status: 200, body: '{"ok":true}' });
    }
    if (url.pathname === '/v1/feeds/dns/snapshot') {
      // Like the hub's, the tag changes with the bytes: here, with the version and the signing key.
      const etag = `"dns-${this.latest}-${this.key.id}"`;
      if (req.headers['if-none-match'] === etag) return send(res, { status: 304, headers: { etag } });
      this.snapshotsSent++;
      const body = await this.snapshot();
      return send(res, { status: 200, body, headers: { 'content-type': 'application/octet-stream', etag } });
    }
    if (url.pathname === '/v1/feeds/dns/delta') {
      const since = Number(url.searchParams.get('since'));
      const wait = Number(url.searchParams.get('wait') ?? 0);
      if (since === this.latest && wait > 0) await this.#waitForPublish(wait * 1000);
      if (since === this.latest) return send(res, { status: 304 });
      if (!this.versions.has(since) || since > this.latest) {
        return send(res, {
          status: 410,
          body: '{"error":{"code":"resync_required","message":"no delta from that version"}}',
        });
      }
      return send(res, artifact(await this.delta(since)));
    }
    return send(res, { status: 404, body: '{"error":{"code":"not_found","message":"no such thing"}}' });
  }

  /** `GET /v1/log/proof/consistency?from=&to=` as the real hub answers it. */
  #consistency(url: URL, res: ServerResponse): void {
    this.proofRequests.push(url.pathname + url.search);
    const [from, to] = ['from', 'to'].map((name) => this.treeSizes.get(Number(url.searchParams.get(name))));
    if (this.proofsDown) {
      send(res, { status: 503, body: '{"error":{"code":"unavailable","message":"down"}}' });
      return;
    }
    if (from === undefined || to === undefined || from < 1 || from > to) {
      send(res, { status: 404, body: '{"error":{"code":"not_found","message":"no such version"}}' });
      return;
    }
    const head = (version: string | null, treeSize: number) => ({
      version: Number(version),
      treeSize,
      rootHash: toBase64(treeRoot(this.#nodes, treeSize)),
    });
    const body = {
      from: head(url.searchParams.get('from'), from),
      to: head(url.searchParams.get('to'), to),
      proof: consistencyProof(this.#nodes, from, to).map(toBase64),
    };
    send(res, { status: 200, body: JSON.stringify(body) });
  }

  #waitForPublish(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }
}

/** An artifact answer. */
export const artifact = (bytes: Uint8Array): Crafted => ({
  status: 200,
  body: bytes,
  headers: { 'content-type': 'application/octet-stream' },
});

function send(res: ServerResponse, crafted: Crafted): void {
  const headers = {
    ...(typeof crafted.body === 'string' && { 'content-type': 'application/json' }),
    ...crafted.headers,
  };
  res.writeHead(crafted.status, headers).end(crafted.body ?? undefined);
}
