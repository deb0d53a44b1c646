import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../bench/lib/resolvers/daemon.ts';
import { startDnsmasq } from '../../bench/lib/resolvers/dnsmasq.ts';
import {
  authZoneSnippet,
  missingTools,
  queryDns,
  type RunningUnbound,
  startUnbound,
} from '../../bench/lib/resolvers/unbound.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import { decodeArtifact } from '../../src/core/artifact.ts';
import { createFeedConsumer } from '../../src/core/consumer.ts';
import { lookupExpressions } from '../../src/core/expressions.ts';
import type { FilterState } from '../../src/core/filter-state.ts';
import type { PlainState } from '../../src/core/plain-state.ts';
import { canonicalizeUrl } from '../../src/core/url.ts';
import { resolveRenderOptions } from '../../src/render/index.ts';
import { verdictOf } from '../../workers/edge/verdict.ts';
import { eventually, type TestHub, testApp } from '../helpers/hub.ts';
import { parseHosts } from '../render/strict-parsers.ts';
import { type ParityProbe, parityCorpus } from './corpus.ts';

// One verdict per probe at every enforcement point: the hub's check, the edge's filter state (from a snapshot
// and through a delta), the url and dns feeds as the agent holds them, and the rendered resolver files loaded
// by real Unbound and dnsmasq. A point that cannot express a probe says so in its own test.

const corpus = parityCorpus();
const ZONE = 'rpz.takedown.';
/** Every name the "internet" answers (a wildcard at the root of an authoritative zone). */
const INTERNET_ADDRESS = '192.0.2.99';

type Verdicts = Map<ParityProbe, boolean>;

interface Consumers {
  hubCheck: Verdicts;
  edgeSnapshot: FilterState;
  edgeDelta: FilterState;
  urlFeed: PlainState;
  dnsFeed: PlainState;
  version: number;
}

const canonicalHost = (url: string) => {
  const c = canonicalizeUrl(url);
  if (!c.ok) throw new Error(`probe ${url} does not canonicalize: ${c.error.message}`);
  return c.value;
};

/** The probes whose expected verdict differs from a point's answer, as readable lines. */
function disagreements(
  point: string,
  expected: (p: ParityProbe) => boolean,
  answer: (p: ParityProbe) => boolean,
  probes = corpus.probes,
): string[] {
  return probes
    .filter((p) => answer(p) !== expected(p))
    .map((p) => `${point}: ${p.url} (${p.why}) expected ${expected(p) ? 'blocked' : 'allowed'}`);
}

async function hubConsumers(hub: TestHub): Promise<Consumers> {
  const publicKey = hub.hub.signingKey.publicKey;
  const artifact = async (path: string) => {
    const res = await hub.hub.app.request(path, {
      headers: { authorization: `Bearer ${hub.tokens.distributor}` },
    });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const feedsAt = (version: number) =>
    eventually(async () => {
      const r = await hub.call('GET', '/v1/feeds', { as: 'distributor' });
      return r.body.version === version ? true : undefined;
    }, `the feeds at version ${version}`);
  const snapshotsAt = async (version: number) => {
    await feedsAt(version);
    await hub.hub.feeds.rebuildSnapshots();
    const out: Record<string, Uint8Array> = {};
    for (const feed of ['dns', 'url', 'filter']) {
      out[feed] = await artifact(`/v1/feeds/${feed}/snapshot`);
      const decoded = decodeArtifact(out[feed] as Uint8Array);
      expect(decoded.ok && decoded.value.manifest.to).toBe(version);
    }
    return out;
  };
  const order = async (reference: string, targets: string[]) => {
    const r = await hub.call('POST', '/v1/orders', {
      as: 'regulator',
      json: { reference, authority: 'MIC', category: 'phishing', targets },
    });
    if (r.status !== 201) throw new Error(`order ${reference} refused: ${JSON.stringify(r.body)}`);
    // The hub classifies every target as the corpus does.
    for (const result of r.body.results) {
      const entry = corpus.entries.find((e) => e.target === result.target);
      expect(`${result.target} ${result.kind}`).toBe(`${result.target} ${entry?.kind}`);
    }
    return r.body.version as number;
  };

  const first = corpus.entries.filter((_, i) => i % 2 === 0).map((e) => e.target);
  const second = corpus.entries.filter((_, i) => i % 2 === 1).map((e) => e.target);
  const v1 = await order('PARITY/1', first);
  const base = await snapshotsAt(v1);
  const v2 = await order('PARITY/2', second);
  await feedsAt(v2);
  const reached = async <S>(feed: 'dns' | 'url' | 'filter') => {
    const consumer = createFeedConsumer(feed as 'dns', [publicKey]);
    for (const bytes of [base[feed] as Uint8Array, await artifact(`/v1/feeds/${feed}/delta?since=${v1}`)]) {
      const applied = await consumer.apply(bytes, Date.now());
      if (!applied.ok) throw new Error(`${feed}: ${applied.error.code} ${applied.error.message}`);
    }
    expect(consumer.version).toBe(v2);
    return consumer.state as S;
  };
  const edgeDelta = await reached<FilterState>('filter');
  const urlFeed = await reached<PlainState>('url');
  const dnsFeed = await reached<PlainState>('dns');
  const latest = await snapshotsAt(v2);
  const edge = createFeedConsumer('filter', [publicKey]);
  const applied = await edge.apply(latest.filter as Uint8Array, Date.now());
  if (!applied.ok) throw new Error(`filter snapshot: ${applied.error.message}`);

  const hubCheck: Verdicts = new Map();
  for (let i = 0; i < corpus.probes.length; i += 1000) {
    const batch = corpus.probes.slice(i, i + 1000);
    const r = await hub.call('POST', '/v1/check', {
      as: 'distributor',
      json: { targets: batch.map((p) => p.url) },
    });
    expect(r.status).toBe(200);
    for (const [j, p] of batch.entries()) hubCheck.set(p, r.body.results[j].blocked === true);
  }
  return { hubCheck, edgeSnapshot: edge.state as FilterState, edgeDelta, urlFeed, dnsFeed, version: v2 };
}

let hub: TestHub | undefined;
let dir: string | undefined;
let points: Consumers;

// One hub for both groups below: the resolvers load what the agent's states hold.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'takedown-parity-'));
  hub = await testApp();
  await hub.hub.feedsStarted;
  points = await hubConsumers(hub);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const workDir = () => dir as string;
const nameProbes = () => corpus.probes.filter((p) => !canonicalHost(p.url).isIp);

describe('enforcement parity: one verdict per probe everywhere', () => {
  it('the corpus covers every class the issue names', () => {
    const whys = corpus.probes.map((p) => p.why).join('\n');
    for (let labels = 2; labels <= 10; labels++) expect(whys).toContain(`${labels}-label domain`);
    for (let depth = 1; depth <= 6; depth++) expect(whys).toContain(`sub-domain at depth ${depth}`);
    for (const needle of [
      'Vietnamese',
      'Cyrillic',
      'co.uk',
      'com.vn',
      'github.io',
      'blogspot.com',
      'IP literal',
    ]) {
      expect(whys).toContain(needle);
    }
    for (const needle of [
      'exact page',
      'page with its query',
      'directory prefix',
      'upper case',
      'percent-encoded',
    ]) {
      expect(whys).toContain(needle);
    }
    expect(corpus.probes.filter((p) => p.http).length).toBeGreaterThan(100);
    expect(corpus.probes.filter((p) => !p.http).length).toBeGreaterThan(50);
  });

  it('HTTP consumers: the hub check, the edge (snapshot and deltas) and the url feed agree', () => {
    const http = (p: ParityProbe) => p.http;
    const check = (state: FilterState | PlainState) => (p: ParityProbe) =>
      state.isBlocked(lookupExpressions(canonicalHost(p.url)));
    expect([
      ...disagreements('POST /v1/check', http, (p) => points.hubCheck.get(p) === true),
      ...disagreements('edge, filter snapshot', http, (p) => {
        const v = verdictOf(points.edgeSnapshot, p.url);
        return v.ok && v.blocked;
      }),
      ...disagreements('edge, filter snapshot + delta', http, check(points.edgeDelta)),
      ...disagreements('url feed (agent state)', http, check(points.urlFeed)),
    ]).toEqual([]);
  });

  it('the dns feed as the agent holds it blocks exactly the names under domain entries', () => {
    expect(
      disagreements(
        'dns feed (agent state)',
        (p) => p.dns,
        (p) => points.dnsFeed.isBlocked(lookupExpressions(canonicalHost(p.url))),
      ),
    ).toEqual([]);
  });

  it('DNS outputs cannot express url entries nor IP literals: those probes are allowed by every resolver', () => {
    const urlOnly = corpus.probes.filter((p) => p.http && !p.dns);
    const ipProbes = corpus.probes.filter((p) => canonicalHost(p.url).isIp);
    expect(urlOnly.length).toBeGreaterThan(20);
    expect(ipProbes.length).toBeGreaterThan(5);
    // Listed, not skipped: DNS answers by name, and a url entry never blocks its whole host.
    expect(urlOnly.every((p) => !points.dnsFeed.isBlocked([`${canonicalHost(p.url).host}/`]))).toBe(true);
  });

  it('hosts output: exact names only; sub-domain probes cannot be expressed and are not blocked there', async () => {
    const path = join(workDir(), 'takedown.hosts');
    await renderToFile(path, 'hosts', points.dnsFeed.entries(), {
      version: points.version,
      options: resolveRenderOptions(),
    });
    const names = new Set(parseHosts(await readFile(path, 'utf8')).map((l) => l.name));
    const cannot = nameProbes().filter((p) => p.dns && !p.exactHost);
    const can = nameProbes().filter((p) => !cannot.includes(p));
    expect(cannot.length).toBeGreaterThan(50);
    expect(
      disagreements(
        'hosts file',
        (p) => p.exactHost,
        (p) => names.has(canonicalHost(p.url).host),
        can,
      ),
    ).toEqual([]);
    // The limit is real, and stated: no sub-domain probe is in the file.
    expect(cannot.filter((p) => names.has(canonicalHost(p.url).host))).toEqual([]);
  });
});

describe.skipIf(missingTools(['unbound', 'unbound-checkconf']))(
  'real resolvers on the rendered files',
  () => {
    let internet: RunningUnbound;
    let rpz: RunningUnbound;
    let dnsmasq: Daemon | undefined;
    let dnsmasqPort = 0;

    beforeAll(async () => {
      const options = resolveRenderOptions();
      const root = join(workDir(), 'root.zone');
      await writeFile(
        root,
        `$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n* A ${INTERNET_ADDRESS}\n`,
      );
      const rootServer = ['server:\n  local-zone: "." nodefault\n', authZoneSnippet('.', root)];
      const rpzPath = join(workDir(), 'takedown.rpz');
      await renderToFile(rpzPath, 'rpz', points.dnsFeed.entries(), { version: points.version, options });
      internet = await startUnbound(rootServer, { control: false });
      rpz = await startUnbound(
        [
          'server:\n  module-config: "respip iterator"\n  local-zone: "." nodefault\n',
          authZoneSnippet('.', root),
          `rpz:\n  name: "${ZONE}"\n  zonefile: "${rpzPath}"\n`,
        ],
        { control: false },
      );
      if (!missingTools(['dnsmasq'])) {
        const servers = join(workDir(), 'takedown.servers');
        await renderToFile(servers, 'dnsmasq', points.dnsFeed.entries(), {
          version: points.version,
          options,
        });
        const started = await startDnsmasq({
          dir: workDir(),
          upstreamPort: internet.port,
          serversFile: servers,
          probeName: 'ready.example',
        });
        dnsmasq = started.daemon;
        dnsmasqPort = started.port;
      }
    }, 120_000);

    afterAll(async () => {
      await dnsmasq?.stop();
      await rpz?.stop();
      await internet?.stop();
    });

    /** NXDOMAIN is a block; the root wildcard's address is an answer; anything else is a failure to report. */
    const blockedAt = async (port: number, p: ParityProbe) => {
      const response = await queryDns(port, canonicalHost(p.url).host, 'A');
      if (response.status === 'NXDOMAIN') return true;
      if (response.status === 'NOERROR' && response.answers.some((a) => a.data === INTERNET_ADDRESS))
        return false;
      throw new Error(`${p.url}: unexpected answer ${response.status} ${JSON.stringify(response.answers)}`);
    };
    const verdicts = async (port: number) => {
      const out = new Map<ParityProbe, boolean>();
      for (const p of nameProbes()) out.set(p, await blockedAt(port, p));
      return out;
    };

    it('the resolver without a policy answers every probe: the baseline is not blocking anything', async () => {
      const answers = await verdicts(internet.port);
      expect([...answers.values()].filter(Boolean)).toEqual([]);
    });

    it('Unbound loading the RPZ zone blocks exactly the names under domain entries', async () => {
      const answers = await verdicts(rpz.port);
      expect(
        disagreements(
          'Unbound + RPZ',
          (p) => p.dns,
          (p) => answers.get(p) === true,
          nameProbes(),
        ),
      ).toEqual([]);
    });

    it('dnsmasq with the servers-file blocks exactly the names under domain entries', async (context) => {
      if (!dnsmasq) context.skip();
      const answers = await verdicts(dnsmasqPort);
      expect(
        disagreements(
          'dnsmasq',
          (p) => p.dns,
          (p) => answers.get(p) === true,
          nameProbes(),
        ),
      ).toEqual([]);
    });
  },
);
