import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { AGENT_ID, DEFAULT_TIMEOUT_MS } from '../../core/hub-client.ts';
import { DEFAULT_MAX_BYTES } from '../../core/verify.ts';
import { isOutputFormat, parseOutputSpec } from '../../render/index.ts';
import { type RenderOptions, RenderOptionsError, resolveRenderOptions } from '../../render/options.ts';
import { parseHostPort } from '../../util/host-port.ts';
import type { OutputSpec } from '../apply-output.ts';

/** Everything `takedown sync` runs with, validated once. */
export interface SyncConfig {
  /** The hub: where the feed comes from unless `mirror` is set, and where key sets and reports come from. */
  hub?: string;
  token?: string;
  /** A static mirror (the `takedown publish` layout on any HTTP server) the feed comes from instead. */
  mirror?: string;
  feed: 'dns' | 'url';
  /** File of pinned public keys (base64 raw Ed25519, separated by white space or commas). */
  keyFile: string;
  stateDir: string;
  /** The id reports are sent under (`--agent-id`); unset: the one kept in the state directory. */
  agentId?: string;
  outputs: OutputSpec[];
  /** One sync, then exit (cron); otherwise a daemon. */
  once: boolean;
  /** Long-poll: how long the hub may hold a delta request open (s, at most 60). */
  waitSeconds: number;
  /** Least time between the starts of two polls when the hub answers at once (s). */
  intervalSeconds: number;
  /** Cap of the back-off after failures (s). */
  maxBackoffSeconds: number;
  reloadTimeoutSeconds: number;
  /** Deadline of one request to the hub, headers and body, beyond the long-poll wait (s). */
  timeoutSeconds: number;
  maxBytes: number;
  render: RenderOptions;
  metrics?: { host: string; port: number };
  /** Serve the policy zone over DNS (AXFR/IXFR) from the agent's state. */
  serveRpz?: { host: string; port: number };
  /** Secondaries to NOTIFY when the served zone changes. */
  notify: Array<{ host: string; port: number }>;
  /** Records per IXFR answer to a NOTIFYed secondary (`--rpz-piece-records`); 0: whole differences. */
  rpzPieceRecords?: number;
}

/** A configuration value that cannot work; the message names the key (flag) and the value. */
export class SyncConfigError extends Error {
  override name = 'SyncConfigError';
}

/**
 * The default of every optional key, the one place they are written: `resolveSyncConfig` fills them and
 * `takedown sync --help` prints them.
 */
export const SYNC_DEFAULTS = {
  once: false,
  wait: 30,
  interval: 10,
  'max-backoff': 300,
  'reload-timeout': 30,
  timeout: DEFAULT_TIMEOUT_MS / 1000,
  'max-bytes': DEFAULT_MAX_BYTES,
  'metrics-host': '127.0.0.1',
} as const;

const text = z.string().min(1);
const list = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const seconds = (max: number) => z.coerce.number().min(0).max(max);
const port = z.coerce.number().int().min(0).max(65535);

/** The keys of a `--config` file: the flag names, with the same meaning as the flags. */
const inputSchema = z.strictObject({
  hub: z.url({ protocol: /^https?$/ }).optional(),
  token: text.optional(),
  mirror: z.url({ protocol: /^https?$/ }).optional(),
  feed: z.enum(['dns', 'url']).optional(),
  key: text.optional(),
  state: text.optional(),
  'agent-id': z.string().regex(AGENT_ID, "1 to 64 letters, digits, '.', '_', ':' or '-'").optional(),
  output: list.optional(),
  reload: list.optional(),
  once: z.boolean().optional(),
  wait: seconds(60).optional(),
  interval: seconds(3600).optional(),
  'max-backoff': seconds(86_400).optional(),
  'reload-timeout': seconds(3600).optional(),
  timeout: z.coerce.number().positive().max(3600).optional(),
  'max-bytes': z.coerce.number().int().min(1).optional(),
  'metrics-port': port.optional(),
  'metrics-host': text.optional(),
  'serve-rpz': text.optional(),
  notify: list.optional(),
  'rpz-piece-records': z.coerce.number().int().min(0).optional(),
  render: z
    .strictObject({
      zone: z.string().optional(),
      ttl: z.number().int().optional(),
      nameServer: z.string().optional(),
      hostmaster: z.string().optional(),
      walledGardenHost: z.string().optional(),
      walledGardenAddresses: z.array(z.string()).optional(),
    })
    .optional(),
});
export interface ConfigSources {
  /** Parsed `--config` file, and the directory its relative paths are relative to. */
  file?: { values: unknown; dir: string };
  /** Command-line flags (flag name -> value); they override the file. */
  flags: Record<string, unknown>;
  /** `TAKEDOWN_HUB`, `TAKEDOWN_TOKEN`: above the file, below the flags (keeps the token out of both). */
  env: Record<string, string | undefined>;
}

/** Merges file, environment (hub and token only) and flags, in rising priority, and validates the result. */
export function resolveSyncConfig(sources: ConfigSources): SyncConfig {
  const file = sources.file ? parse(sources.file.values, 'config file') : {};
  const flags = parse(
    Object.fromEntries(Object.entries(sources.flags).filter(([, v]) => v !== undefined)),
    'flags',
  );
  const inFile = (path: string | undefined) =>
    path !== undefined && sources.file && !isAbsolute(path) ? resolve(sources.file.dir, path) : path;
  const fileOutputs = (file.output ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    return eq === -1 ? spec : `${spec.slice(0, eq + 1)}${inFile(spec.slice(eq + 1))}`;
  });
  const merged = { ...file, key: inFile(file.key), state: inFile(file.state), output: fileOutputs, ...flags };
  const env = parse(
    { hub: sources.env.TAKEDOWN_HUB || undefined, token: sources.env.TAKEDOWN_TOKEN || undefined },
    'environment',
  );
  const hub = flags.hub ?? env.hub ?? file.hub;
  const token = flags.token ?? env.token ?? file.token;
  // With a mirror the hub is optional: it then only receives reports and gives key sets.
  const needsHub = merged.mirror === undefined || hub !== undefined;
  const required = present({
    ...(needsHub && { hub, token }),
    feed: merged.feed,
    key: merged.key,
    state: merged.state,
  });
  if (needsHub) checkHubBase(required.hub);
  const outputs = pairReloads(merged.output ?? [], merged.reload ?? []);
  if (outputs.length === 0 && merged['serve-rpz'] === undefined) {
    throw new SyncConfigError('give at least one --output FORMAT=PATH (or --serve-rpz)');
  }
  let render: RenderOptions;
  try {
    render = resolveRenderOptions(merged.render);
  } catch (error) {
    if (error instanceof RenderOptionsError) throw new SyncConfigError(`render.${error.message}`);
    throw error;
  }
  const d = { ...SYNC_DEFAULTS, ...merged };
  const config: SyncConfig = {
    ...(needsHub && { hub: required.hub, token: required.token }),
    ...(merged.mirror !== undefined && { mirror: merged.mirror }),
    feed: required.feed,
    keyFile: required.key,
    stateDir: required.state,
    outputs,
    once: d.once,
    waitSeconds: d.wait,
    intervalSeconds: d.interval,
    maxBackoffSeconds: d['max-backoff'],
    reloadTimeoutSeconds: d['reload-timeout'],
    timeoutSeconds: d.timeout,
    maxBytes: d['max-bytes'],
    render,
    notify: (merged.notify ?? []).map((value) => hostPort('--notify', value)),
  };
  if (merged['agent-id'] !== undefined) config.agentId = merged['agent-id'];
  if (merged['metrics-port'] !== undefined) {
    config.metrics = { host: d['metrics-host'], port: merged['metrics-port'] };
  }
  if (merged['serve-rpz'] !== undefined) config.serveRpz = hostPort('--serve-rpz', merged['serve-rpz']);
  if (config.notify.length > 0 && !config.serveRpz) throw new SyncConfigError('--notify needs --serve-rpz');
  if (merged['rpz-piece-records'] !== undefined) {
    if (!config.serveRpz) throw new SyncConfigError('--rpz-piece-records needs --serve-rpz');
    config.rpzPieceRecords = merged['rpz-piece-records'];
  }
  if (config.once && config.serveRpz) throw new SyncConfigError('--serve-rpz needs the daemon, not --once');
  return config;
}

/** `--hub` is the hub's base URL: the agent appends `/v1/...`; a URL already holding it would 404 on every feed. */
function checkHubBase(hub: string): void {
  const url = new URL(hub);
  const at = url.pathname.search(/\/v1(\/|$)/);
  if (at === -1) return;
  const given = url.pathname.slice(at);
  url.pathname = url.pathname.slice(0, at);
  url.search = '';
  throw new SyncConfigError(`--hub ${hub}: give the hub's base URL without ${given}, e.g. ${url.href}`);
}

/** The values, all given; else the error naming every missing flag. */
function present<T extends Record<string, unknown>>(values: T): { [K in keyof T]-?: NonNullable<T[K]> } {
  const missing = Object.keys(values).filter((key) => values[key] === undefined);
  if (missing.length > 0) throw new SyncConfigError(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
  return values as { [K in keyof T]-?: NonNullable<T[K]> };
}

function parse(values: unknown, where: string): z.output<typeof inputSchema> {
  const parsed = inputSchema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue?.path.join('.') || '(top level)';
  throw new SyncConfigError(`${where}: ${key}: ${issue?.message ?? 'invalid'}`);
}

/**
 * Attaches `--reload` commands to `--output`s. Either every reload is `FORMAT=CMD` (the command of
 * every output of that format), or none is, and then they pair with the outputs in order, one each
 * (an empty command: that output needs no reload).
 */
export function pairReloads(outputSpecs: readonly string[], reloads: readonly string[]): OutputSpec[] {
  const outputs: OutputSpec[] = outputSpecs.map((spec) => {
    const parsed = parseOutputSpec(spec);
    if (!parsed.ok) throw new SyncConfigError(parsed.error.message);
    return { ...parsed.value };
  });
  const byFormat = reloads.map((reload) => {
    const eq = reload.indexOf('=');
    const format = eq === -1 ? '' : reload.slice(0, eq);
    return isOutputFormat(format) ? { format, command: reload.slice(eq + 1) } : undefined;
  });
  if (byFormat.every((r) => r === undefined)) {
    if (reloads.length === 0) return outputs;
    if (reloads.length !== outputs.length) {
      throw new SyncConfigError(
        `${reloads.length} --reload for ${outputs.length} --output: give one per output, in order, or FORMAT=CMD`,
      );
    }
    return outputs.map((o, i) => (reloads[i] ? { ...o, reload: reloads[i] } : o));
  }
  const seen = new Set<string>();
  for (const [i, r] of byFormat.entries()) {
    if (r === undefined)
      throw new SyncConfigError(`--reload "${reloads[i]}": do not mix FORMAT=CMD with plain commands`);
    if (seen.has(r.format)) throw new SyncConfigError(`--reload: two commands for format ${r.format}`);
    seen.add(r.format);
    const matching = outputs.filter((o) => o.format === r.format);
    if (matching.length === 0)
      throw new SyncConfigError(`--reload ${r.format}=...: no --output of format ${r.format}`);
    for (const output of matching) if (r.command) output.reload = r.command;
  }
  return outputs;
}

/** `HOST:PORT` or `[IPV6]:PORT`, HOST an IP address. */
export function hostPort(flag: string, value: string): { host: string; port: number } {
  const parsed = parseHostPort(value);
  if (!parsed) throw new SyncConfigError(`${flag} "${value}" is not IP:PORT`);
  return parsed;
}
