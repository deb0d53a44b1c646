import { randomBytes } from 'node:crypto';
import type { SigningKey } from '../core/keys.ts';
import { type ProbeObservation, type SignedObservation, signObservation } from '../core/probe-evidence.ts';
import type { Category } from '../core/types.ts';
import { DnsClient, DnsTimeoutError, type QueryType } from './dns-client.ts';
import { classifyCanaryAnswer, classifyEntryAnswer, type DnsVerdict } from './dns-verdict.ts';
import { checkThroughProxy } from './http-check.ts';
import { type ProbeTarget, targetName } from './probe-targets.ts';
import type { TokenBucket } from './token-bucket.ts';

/** A plan as `GET /v1/probes/plan` returns it (the fields the probe uses). */
export interface Plan {
  id: number;
  version: number;
  canary: { name: string; version: number };
  entries: Array<{ expression: string; kind: 'domain' | 'url'; category: Category; reason: string }>;
}

export interface RoundOptions {
  key: SigningKey;
  resolvers: readonly ProbeTarget[];
  proxies: readonly ProbeTarget[];
  bucket: Pick<TokenBucket, 'take'>;
  timeoutMs: number;
  /** Addresses of the ISPs' block pages: an A/AAAA answer with one of them is a block. */
  walledGarden: ReadonlySet<string>;
  blockPageFingerprint?: string;
  /** Categories whose content the probe never requests over HTTP (csam by default). */
  confidential: ReadonlySet<Category>;
  /** Checks in flight at once. */
  concurrency: number;
  signal?: AbortSignal;
}

/** Queries one domain entry costs per resolver: the name and a random sub-domain. */
export const QUERIES_PER_NAME = 2;

/** One question to one resolver or proxy, to be asked when the budget allows. */
type Check = () => Promise<Omit<ProbeObservation, 'planId' | 'probeId' | 'observedAt'>>;

async function askDns(
  client: DnsClient,
  name: string,
  type: QueryType,
  timeoutMs: number,
  classify: (message: Buffer) => DnsVerdict,
): Promise<DnsVerdict & { raw: string }> {
  try {
    const { message } = await client.query(name, type, timeoutMs);
    return { ...classify(message), raw: message.toString('base64') };
  } catch (error) {
    const reason = error instanceof DnsTimeoutError ? 'timeout' : 'network-error';
    return { verdict: 'inconclusive', reason, canaryVersion: null, raw: '' };
  }
}

/** The checks of a plan: the canary at every resolver, domain entries at resolvers, url entries at proxies. */
function checksOf(plan: Plan, options: RoundOptions, clients: Map<ProbeTarget, DnsClient>): Check[] {
  const checks: Check[] = [];
  for (const resolver of options.resolvers) {
    const client = clients.get(resolver) as DnsClient;
    const target = targetName('dns', resolver);
    checks.push(async () => ({
      isp: resolver.isp,
      target,
      check: 'canary',
      expression: null,
      query: `${plan.canary.name} TXT`,
      ...(await askDns(client, plan.canary.name, 'TXT', options.timeoutMs, classifyCanaryAnswer)),
    }));
  }
  for (const entry of plan.entries) {
    if (entry.kind === 'domain') {
      const name = entry.expression.slice(0, -1);
      // A random label: the policy must cover sub-domains, and no cache can have seen this name.
      const names = [name, `p${randomBytes(5).toString('hex')}.${name}`];
      for (const resolver of options.resolvers) {
        const client = clients.get(resolver) as DnsClient;
        for (const qname of names) {
          checks.push(async () => {
            const answer = await askDns(client, qname, 'A', options.timeoutMs, (message) =>
              classifyEntryAnswer(message, options.walledGarden),
            );
            return {
              isp: resolver.isp,
              target: targetName('dns', resolver),
              check: 'dns',
              expression: entry.expression,
              query: `${qname} A`,
              ...answer,
            };
          });
        }
      }
    } else if (!options.confidential.has(entry.category)) {
      const url = `http://${entry.expression}`;
      for (const proxy of options.proxies) {
        checks.push(async () => ({
          isp: proxy.isp,
          target: targetName('http', proxy),
          check: 'http',
          expression: entry.expression,
          query: url,
          canaryVersion: null,
          ...(await checkThroughProxy(url, {
            proxy,
            timeoutMs: options.timeoutMs,
            ...(options.blockPageFingerprint && { blockPageFingerprint: options.blockPageFingerprint }),
          })),
        }));
      }
    }
  }
  return checks;
}

/**
 * Runs every check of `plan`, each after taking one query from the budget, `concurrency` at a time, and
 * returns the signed observations in the order the checks were listed.
 */
export async function runPlan(plan: Plan, options: RoundOptions): Promise<SignedObservation[]> {
  const clients = new Map(options.resolvers.map((r) => [r, new DnsClient(r.host, r.port)]));
  try {
    const checks = checksOf(plan, options, clients);
    const results: SignedObservation[] = new Array(checks.length);
    let next = 0;
    const worker = async () => {
      while (next < checks.length) {
        const index = next++;
        await options.bucket.take(options.signal);
        const observed = await (checks[index] as Check)();
        results[index] = await signObservation(options.key, {
          planId: plan.id,
          probeId: options.key.id,
          observedAt: new Date().toISOString(),
          ...observed,
        });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
    return results;
  } finally {
    for (const client of clients.values()) client.close();
  }
}
