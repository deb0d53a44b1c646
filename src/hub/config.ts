import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CATEGORIES } from '../core/types.ts';
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

/** Everything the hub reads from flags and environment, validated once at start (DESIGN section 6 defaults). */
export const hubConfigSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8787),
  dataDir: z.string().min(1).default('./data'),
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
  bodyLimit: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  /** Bloom false-positive rate of the filter feed. */
  filterFpr: z.coerce.number().gt(0).lt(1).default(1e-6),
  /** Categories that appear only in the hashed filter feed. */
  confidential: list('csam').pipe(z.array(z.enum(CATEGORIES))),
  /** The transparency log's origin: the first line of its checkpoints and the name of their key. */
  logOrigin: z
    .string()
    .regex(/^[^\s\u2014+][^\s+]*$/, 'a log origin has no white space or "+"')
    .default('takedown'),
});

export type HubConfigInput = z.input<typeof hubConfigSchema>;
export type HubConfig = z.output<typeof hubConfigSchema> & { dbPath: string; keysDir: string };

/** Parses flags over environment over defaults; throws a ZodError naming the bad setting. */
export function loadHubConfig(input: HubConfigInput): HubConfig {
  const config = hubConfigSchema.parse(input);
  const dataDir = resolve(config.dataDir);
  return { ...config, dataDir, dbPath: join(dataDir, 'takedown.db'), keysDir: join(dataDir, 'keys') };
}

/** The environment variables the hub reads, as config input (flags override them). */
export function hubConfigFromEnv(env: NodeJS.ProcessEnv): HubConfigInput {
  const pick = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
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
    filterFpr: pick('TAKEDOWN_FILTER_FPR'),
    confidential: pick('TAKEDOWN_CONFIDENTIAL_CATEGORIES'),
    logOrigin: pick('TAKEDOWN_LOG_ORIGIN'),
  } as HubConfigInput;
}
