/**
 * The worker's environment, parsed once at the boundary: handlers and services receive an {@link EdgeConfig}
 * and never read `env` themselves.
 */
import { type PublicKey, parsePublicKeys } from '../../src/core/keys.ts';
import { fail, ok, type Result } from '../../src/core/types.ts';
import type { ArtifactBucket } from './feed-store.ts';

/** What wrangler hands the worker: vars and secrets are strings, bindings are objects. */
export interface EdgeEnv {
  HUB_URL?: string;
  HUB_TOKEN?: string;
  TRUSTED_KEYS?: string;
  FAIL_MODE?: string;
  BLOCKED_BY?: string;
  ORIGIN?: string;
  APPEAL_URL?: string;
  REFRESH_SECONDS?: string;
  FEED_BUCKET?: ArtifactBucket;
}

export type FailMode = 'open' | 'closed';

export interface EdgeConfig {
  /** The hub to pull artifacts from when the bucket has nothing newer; null to rely on the bucket only. */
  hubUrl: URL | null;
  hubToken: string | null;
  trustedKeys: PublicKey[];
  failMode: FailMode;
  /** The operator implementing the block (RFC 7725 `blocked-by`), never the authority. */
  blockedBy: string;
  /** Where a person learns how to appeal; defaults to {@link blockedBy}. */
  appealUrl: string;
  /** Upstream override for local runs: requests keep their path and query but go to this origin. */
  origin: URL | null;
  /** At most one background refresh per isolate per this many milliseconds. */
  refreshMs: number;
  bucket: ArtifactBucket | null;
}

const DEFAULT_REFRESH_SECONDS = 30;

/**
 * What a worker whose environment was refused still honours: it behaves as one that never loaded a feed,
 * so it needs its fail mode (anything but `open` is `closed`) and, to pass requests, its upstream.
 */
export function fallbackOf(env: EdgeEnv): { failMode: FailMode; origin: URL | null } {
  const origin = optionalUrl('ORIGIN', env.ORIGIN);
  return {
    failMode: env.FAIL_MODE?.trim().toLowerCase() === 'open' ? 'open' : 'closed',
    origin: origin.ok ? origin.value : null,
  };
}

/** The configuration, or the first variable that is missing or malformed. */
export async function parseEdgeEnv(env: EdgeEnv): Promise<Result<EdgeConfig>> {
  const failMode = env.FAIL_MODE?.trim().toLowerCase() ?? 'closed';
  if (failMode !== 'open' && failMode !== 'closed') {
    return fail('bad_config', `FAIL_MODE "${env.FAIL_MODE}" is neither "open" nor "closed"`);
  }
  const keys = await parsePublicKeys(env.TRUSTED_KEYS ?? '');
  if (!keys.ok) return fail('bad_config', `TRUSTED_KEYS: ${keys.error.message}`);
  const hubUrl = optionalUrl('HUB_URL', env.HUB_URL);
  if (!hubUrl.ok) return hubUrl;
  const origin = optionalUrl('ORIGIN', env.ORIGIN);
  if (!origin.ok) return origin;
  const blockedBy = optionalUrl('BLOCKED_BY', env.BLOCKED_BY);
  if (!blockedBy.ok) return blockedBy;
  if (!blockedBy.value)
    return fail('bad_config', 'BLOCKED_BY (the operator implementing the block) is not set');
  const appealUrl = optionalUrl('APPEAL_URL', env.APPEAL_URL);
  if (!appealUrl.ok) return appealUrl;
  const bucket = env.FEED_BUCKET ?? null;
  if (!hubUrl.value && !bucket)
    return fail('bad_config', 'neither HUB_URL nor the FEED_BUCKET binding is set');
  const refresh = Number(env.REFRESH_SECONDS?.trim() || DEFAULT_REFRESH_SECONDS);
  if (!Number.isFinite(refresh) || refresh < 0) {
    return fail('bad_config', `REFRESH_SECONDS "${env.REFRESH_SECONDS}" is not a number of seconds >= 0`);
  }
  return ok({
    hubUrl: hubUrl.value,
    hubToken: env.HUB_TOKEN?.trim() || null,
    trustedKeys: keys.value,
    failMode,
    blockedBy: blockedBy.value.href,
    appealUrl: (appealUrl.value ?? blockedBy.value).href,
    origin: origin.value,
    refreshMs: refresh * 1000,
    bucket,
  });
}

function optionalUrl(name: string, value: string | undefined): Result<URL | null> {
  const text = value?.trim();
  if (!text) return ok(null);
  const url = URL.canParse(text) ? new URL(text) : null;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    return fail('bad_config', `${name} "${text}" is not an http(s) URL`);
  }
  return ok(url);
}
