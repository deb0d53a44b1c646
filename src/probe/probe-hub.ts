import { exportPublicKey, type SigningKey } from '../core/keys.ts';
import type { SignedObservation } from '../core/probe-evidence.ts';
import type { Plan } from './probe-round.ts';

/** A refusal or failure of the hub, with its status and error code. */
class ProbeHubError extends Error {
  override name = 'ProbeHubError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Results per POST (the hub takes up to 1000). */
const BATCH = 500;

/** The probe's calls to the hub's `/v1/probes` routes with its prober token. */
export class ProbeHub {
  constructor(
    private readonly hub: string,
    private readonly token: string,
  ) {}

  async #call(method: string, path: string, json?: unknown): Promise<unknown> {
    const res = await fetch(new URL(path, this.hub), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(json !== undefined && { 'content-type': 'application/json' }),
      },
      ...(json !== undefined && { body: JSON.stringify(json) }),
    });
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    if (!res.ok) {
      throw new ProbeHubError(
        res.status,
        body?.error?.code ?? 'http_error',
        `${method} ${path}: ${res.status} ${body?.error?.message ?? res.statusText}`,
      );
    }
    return body;
  }

  /** Pins the probe's public key for its token (a no-op when already pinned). */
  async registerKey(key: SigningKey): Promise<void> {
    await this.#call('POST', '/v1/probes/keys', { publicKey: exportPublicKey(key.publicKey) });
  }

  async plan(budget: number, perEntry: number): Promise<Plan> {
    return (await this.#call('GET', `/v1/probes/plan?budget=${budget}&perEntry=${perEntry}`)) as Plan;
  }

  /** Posts results in batches; returns how many the hub stored. */
  async post(results: readonly SignedObservation[]): Promise<number> {
    let stored = 0;
    for (let i = 0; i < results.length; i += BATCH) {
      const reply = (await this.#call('POST', '/v1/probes/results', {
        results: results.slice(i, i + BATCH),
      })) as { stored: number };
      stored += reply.stored;
    }
    return stored;
  }
}
