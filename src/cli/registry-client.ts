import type { z } from 'zod';
import {
  auditQuery,
  entryQuery,
  extendBody,
  orderEntriesQuery,
  orderQuery,
  revokeBody,
} from '../api/schemas.ts';
import type { Registry } from '../registry/registry.ts';
import type { RegistryResult } from '../registry/types.ts';
import { UsageError } from './command.ts';
import { openLocalRegistry } from './local-registry.ts';

// The regulator's daily commands speak to a registry through one interface: the local data directory (the
// registry's own functions) or a remote hub (its HTTP API). Both answer with the API's JSON shapes, and both
// check their input with the API's own schemas, so a flag means the same thing either way.

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, printed or written as it comes
type Json = any;

export interface RegistryClient {
  listOrders(query: z.input<typeof orderQuery>): Promise<Json>;
  getOrder(id: number, query: z.input<typeof orderEntriesQuery>): Promise<Json>;
  revokeOrder(id: number, body: z.input<typeof revokeBody>): Promise<Json>;
  extendOrder(id: number, body: z.input<typeof extendBody>): Promise<Json>;
  listEntries(query: z.input<typeof entryQuery>): Promise<Json>;
  listChanges(query: z.input<typeof auditQuery>): Promise<Json>;
  verifyChain(): Promise<Json>;
  /** The registry's current version. */
  version(): Promise<number>;
  close(): void;
}

/** `--data` for the local registry, or `--hub` and `--token` (TAKEDOWN_HUB, TAKEDOWN_TOKEN) for a remote one. */
export const targetFlags = {
  data: { type: 'string' },
  hub: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A refusal by the registry or the hub, with its stable code. */
export class RegistryRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

function parsed<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new UsageError(`${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
}

const value = <T>(result: RegistryResult<T>): T => {
  if (!result.ok) throw new RegistryRefusal(result.error.code, result.error.message);
  return result.value;
};

/** The same calls the API routes make (src/api/routes), on the registry of a data directory. */
export function localClient(registry: Registry, actor: string): RegistryClient {
  return {
    async listOrders(query) {
      const page = value(registry.listOrders(parsed(orderQuery, query)));
      return { orders: page.items, nextCursor: page.nextCursor };
    },
    async getOrder(id, query) {
      const { order, entries } = value(registry.getOrder(id, parsed(orderEntriesQuery, query)));
      return { order, entries: entries.items, nextCursor: entries.nextCursor };
    },
    async revokeOrder(id, body) {
      const { reason, release } = parsed(revokeBody, body);
      return value(registry.revokeOrder(id, reason, actor, { release }));
    },
    async extendOrder(id, body) {
      const { expiresAt, reason } = parsed(extendBody, body);
      return value(registry.extendOrder(id, expiresAt, actor, reason));
    },
    async listEntries(query) {
      const { active, ...rest } = parsed(entryQuery, query);
      const page = value(
        registry.listEntries({ ...rest, ...(active === undefined ? {} : { active: active === 'true' }) }),
      );
      return { entries: page.items, nextCursor: page.nextCursor };
    },
    async listChanges(query) {
      const { after, version, limit } = parsed(auditQuery, query);
      const page = value(registry.listChanges({ afterSeq: after, version, limit }));
      return { changes: page.items, nextAfter: page.nextAfterSeq };
    },
    async verifyChain() {
      return registry.verifyChain();
    },
    version: async () => registry.currentVersion(),
    close: () => registry.close(),
  };
}

const search = (query: Record<string, unknown>) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
};

/** The hub's HTTP API at `base` with a bearer token. */
export function remoteClient(base: string, token: string): RegistryClient {
  const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(new URL(path, base), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RegistryRefusal('bad_response', `${method} ${path}: HTTP ${res.status} without JSON`);
    }
    if (!res.ok)
      throw new RegistryRefusal(json?.error?.code ?? `http_${res.status}`, json?.error?.message ?? '');
    return json;
  };
  return {
    listOrders: (q) => call('GET', `/v1/orders${search(parsed(orderQuery, q))}`),
    getOrder: (id, q) => call('GET', `/v1/orders/${id}${search(parsed(orderEntriesQuery, q))}`),
    revokeOrder: (id, body) => call('POST', `/v1/orders/${id}/revoke`, parsed(revokeBody, body)),
    extendOrder: (id, body) => call('POST', `/v1/orders/${id}/extend`, parsed(extendBody, body)),
    listEntries: (q) => call('GET', `/v1/entries${search(parsed(entryQuery, q))}`),
    listChanges: (q) => call('GET', `/v1/audit${search(parsed(auditQuery, q))}`),
    verifyChain: () => call('GET', '/v1/audit/verify'),
    version: async () => (await call('GET', '/healthz')).version,
    close: () => undefined,
  };
}

/** The client the flags name: a hub when `--hub` (or TAKEDOWN_HUB) is set, else the local data directory. */
export function clientFor(
  flags: { data?: string; hub?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): RegistryClient {
  const hub = flags.hub ?? env.TAKEDOWN_HUB;
  if (hub) {
    if (flags.data) throw new UsageError('--data and --hub name two registries: pass one');
    const token = flags.token ?? env.TAKEDOWN_TOKEN;
    if (!token) throw new UsageError('--hub needs --token (or TAKEDOWN_TOKEN)');
    if (!/^https?:\/\//.test(hub)) throw new UsageError(`--hub must be an http(s) URL, got "${hub}"`);
    return remoteClient(hub, token);
  }
  return localClient(openLocalRegistry(flags.data), `cli:${env.USER ?? 'operator'}`);
}

/** Runs `fn` with the client the flags name and always closes it. */
export async function withClient<T>(
  flags: { data?: string; hub?: string; token?: string },
  fn: (client: RegistryClient) => Promise<T>,
): Promise<T> {
  const client = clientFor(flags);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
