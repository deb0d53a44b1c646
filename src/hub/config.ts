import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_ORDER_BODY_LIMIT } from '../api/json-body.ts';
import { DEFAULT_BLOOM_FPR } from '../core/confirm.ts';
import { CATEGORIES } from '../core/types.ts';
import { DEFAULT_FOUR_EYES } from '../registry/four-eyes.ts';
import { DEFAULT_TIME_ZONE, isTimeZone } from '../registry/order-input.ts';
import { parseHostPort } from '../util/host-port.ts';

/** A comma-separated setting as a list (empty when unset). */
const list = (fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    );

/** Everything the hub reads from flags and environment, validated once at start (defaults: docs/ARCHITECTURE.md, configuration and defaults). */
/** The data directory when neither a flag nor TAKEDOWN_DATA names one. */
const DEFAULT_DATA_DIR = './data';

const hubConfigSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8787),
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  /** Sets the first admin token instead of a random one (TAKEDOWN_ADMIN_TOKEN). */
  adminToken: z
    .string()
    .regex(/^tdk_[A-Za-z0-9_-]{43}$/, 'TAKEDOWN_ADMIN_TOKEN must be tdk_ followed by 43 base64url characters')
    .optional(),
  /** PKCS8 base64 Ed25519 private key (TAKEDOWN_SIGNING_KEY); else data/keys/signing.key, created on first start. */
  signingKey: z.string().optional(),
  /** Serve the `dns` feed as the RPZ zone over DNS (AXFR/IXFR/NOTIFY) on this port of `host`. */
  rpzPort: z.coerce.number().int().min(0).max(65535).optional(),
  /** TSIG keys of the secondaries, `name:base64secret` comma-separated (HMAC-SHA256). */
  rpzTsig: list()
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9._-]+:[A-Za-z0-9+/=]+$/, 'must be name:base64secret')))
    .transform((keys) =>
      keys.map((k) => {
        const at = k.indexOf(':');
        return { name: k.slice(0, at), algorithm: 'hmac-sha256' as const, secret: k.slice(at + 1) };
      }),
    ),
  /** Addresses / CIDR blocks that may transfer without TSIG (resolvers that cannot sign, e.g. Unbound). */
  rpzAllow: list(),
  /** Secondaries to NOTIFY on each version, `IP:PORT` comma-separated. */
  rpzNotify: list().pipe(
    z.array(
      z.string().transform((v, ctx) => {
        const parsed = parseHostPort(v);
        if (!parsed) ctx.addIssue({ code: 'custom', message: `"${v}" is not IP:PORT` });
        return parsed ?? { host: '', port: 0 };
      }),
    ),
  ),
  /** Records per IXFR answer to a NOTIFYed secondary (TAKEDOWN_RPZ_PIECE_RECORDS); 0: whole differences. */
  rpzPieceRecords: z.coerce.number().int().min(0).optional(),
  bodyLimit: z.coerce.number().int().positive().default(DEFAULT_ORDER_BODY_LIMIT),
  /**
   * Seconds between full `PRAGMA integrity_check` runs of the registry (in a worker thread); 0 turns them off.
   * Six hours: a check reads the whole file, and damage found within hours still leaves recent backups good.
   */
  integrityCheckSeconds: z.coerce
    .number()
    .min(0)
    .default(6 * 3600),
  /** Minutes a console session lasts after sign-in (TAKEDOWN_CONSOLE_SESSION_MINUTES). */
  consoleSessionMinutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(8 * 60),
  /** Seconds an ISP may stay behind the registry before the console shows it red (TAKEDOWN_LAG_DEADLINE_SECONDS). */
  lagDeadlineSeconds: z.coerce.number().int().min(1).default(3600),
  /** New snapshots at most this long after a change (TAKEDOWN_SNAPSHOT_SECONDS; default 300, docs/DECISIONS.md). */
  snapshotSeconds: z.coerce.number().int().positive().optional(),
  /** Configured Bloom rate f0 of the filter feed: it sets the key widths (docs/DECISIONS.md). */
  filterFpr: z.coerce.number().gt(0).lt(1).default(DEFAULT_BLOOM_FPR),
  /** Categories that appear only in the hashed filter feed. */
  confidential: list('csam').pipe(z.array(z.enum(CATEGORIES))),
  /** IANA zone a bare date (`2026-05-31`) in an order is read in (TAKEDOWN_TIME_ZONE). */
  timeZone: z
    .string()
    .default(DEFAULT_TIME_ZONE)
    .refine(isTimeZone, { message: 'not an IANA time zone (e.g. Asia/Ho_Chi_Minh)' }),
  /** Four-eyes: an order with more targets waits for a second regulator (TAKEDOWN_APPROVAL_MAX_TARGETS; 0 off). */
  approvalMaxTargets: z.coerce.number().int().min(0).default(DEFAULT_FOUR_EYES.maxTargets),
  /**
   * Four-eyes: a domain target whose registrable domain already has more entries waits
   * (TAKEDOWN_APPROVAL_MAX_SUBDOMAINS; 0 off).
   */
  approvalMaxSubdomains: z.coerce.number().int().min(0).default(DEFAULT_FOUR_EYES.maxSubdomainEntries),
  /** Four-eyes: hours a pending order waits for a decision before it expires (TAKEDOWN_APPROVAL_TTL_HOURS). */
  approvalTtlHours: z.coerce.number().positive().default(DEFAULT_FOUR_EYES.pendingTtlHours),
  /** Four-eyes: a popularity list (top sites), one name per line; a target on one waits (TAKEDOWN_POPULAR_DOMAINS). */
  popularDomainsFile: z.string().min(1).optional(),
  /** Largest registry file in MiB; past it writes answer 507 `storage_full` (TAKEDOWN_MAX_REGISTRY_MIB). */
  maxRegistryMiB: z.coerce.number().positive().optional(),
  /** The transparency log's origin: the first line of its checkpoints and the name of their key. */
  logOrigin: z
    .string()
    .regex(/^[^\s\u2014+][^\s+]*$/, 'a log origin has no white space or "+"')
    .default('takedown'),
});

export type HubConfigInput = z.input<typeof hubConfigSchema>;

/** Where the registry and the keys of a data directory live. */
function dataPaths(dataDir: string): { dataDir: string; dbPath: string; keysDir: string } {
  const dir = resolve(dataDir);
  return { dataDir: dir, dbPath: join(dir, 'takedown.db'), keysDir: join(dir, 'keys') };
}

/**
 * The data directory of a command working on the local registry: `--data`, then TAKEDOWN_DATA (empty counts as
 * unset, as for the hub), then ./data; the same rule the hub's configuration applies.
 */
export function localDataPaths(flag: string | undefined, env: NodeJS.ProcessEnv = process.env) {
  return dataPaths(flag ?? envValue(env, 'TAKEDOWN_DATA') ?? DEFAULT_DATA_DIR);
}

const envValue = (env: NodeJS.ProcessEnv, name: string) =>
  env[name] === undefined || env[name] === '' ? undefined : env[name];
export type HubConfig = z.output<typeof hubConfigSchema> & { dbPath: string; keysDir: string };

/** Parses flags over environment over defaults; throws a ZodError naming the bad setting. */
export function loadHubConfig(input: HubConfigInput): HubConfig {
  const config = hubConfigSchema.parse(input);
  return { ...config, ...dataPaths(config.dataDir) };
}

/** The environment variables the hub reads, as config input (flags override them). */
export function hubConfigFromEnv(env: NodeJS.ProcessEnv): HubConfigInput {
  const pick = (name: string) => envValue(env, name);
  return {
    host: pick('TAKEDOWN_HOST'),
    port: pick('TAKEDOWN_PORT'),
    dataDir: pick('TAKEDOWN_DATA'),
    adminToken: pick('TAKEDOWN_ADMIN_TOKEN'),
    signingKey: pick('TAKEDOWN_SIGNING_KEY'),
    rpzPort: pick('TAKEDOWN_RPZ_PORT'),
    rpzTsig: pick('TAKEDOWN_RPZ_TSIG'),
    rpzAllow: pick('TAKEDOWN_RPZ_ALLOW'),
    rpzNotify: pick('TAKEDOWN_RPZ_NOTIFY'),
    rpzPieceRecords: pick('TAKEDOWN_RPZ_PIECE_RECORDS'),
    filterFpr: pick('TAKEDOWN_FILTER_FPR'),
    snapshotSeconds: pick('TAKEDOWN_SNAPSHOT_SECONDS'),
    integrityCheckSeconds: pick('TAKEDOWN_INTEGRITY_CHECK_SECONDS'),
    consoleSessionMinutes: pick('TAKEDOWN_CONSOLE_SESSION_MINUTES'),
    lagDeadlineSeconds: pick('TAKEDOWN_LAG_DEADLINE_SECONDS'),
    confidential: pick('TAKEDOWN_CONFIDENTIAL_CATEGORIES'),
    timeZone: pick('TAKEDOWN_TIME_ZONE'),
    approvalMaxTargets: pick('TAKEDOWN_APPROVAL_MAX_TARGETS'),
    approvalMaxSubdomains: pick('TAKEDOWN_APPROVAL_MAX_SUBDOMAINS'),
    approvalTtlHours: pick('TAKEDOWN_APPROVAL_TTL_HOURS'),
    popularDomainsFile: pick('TAKEDOWN_POPULAR_DOMAINS'),
    maxRegistryMiB: pick('TAKEDOWN_MAX_REGISTRY_MIB'),
    logOrigin: pick('TAKEDOWN_LOG_ORIGIN'),
  } as HubConfigInput;
}
