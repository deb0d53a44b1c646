import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_BYTES } from '../../core/verify.ts';
import { isOutputFormat, parseOutputSpec } from '../../render/index.ts';
import { type RenderOptions, RenderOptionsError, resolveRenderOptions } from '../../render/options.ts';
import { parseHostPort } from '../../util/host-port.ts';
import type { OutputSpec } from '../apply-output.ts';

/** Everything `takedown sync` runs with, validated once. */
export interface SyncConfig {
  /** The hub: where feeds come from unless `mirror` is set, and where reports go. */
  hub?: string;
  token?: string;
  /** A static mirror (`takedown publish` layout) to read the feeds from instead of the hub. */
  mirror?: string;
  feed: 'dns' | 'url';
  /** File of pinned public keys (base64 raw Ed25519, separated by white space or commas). */
  keyFile: string;
  stateDir: string;
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
  maxBytes: number;
  render: RenderOptions;
  metrics?: { host: string; port: number };
  /** Serve the policy zone over DNS (AXFR/IXFR) from the agent's state. */
  serveRpz?: { host: string; port: number };
  /** Secondaries to NOTIFY when the served zone changes. */
  notify: Array<{ host: string; port: number }>;
}

/** A configuration value that cannot work; the message names the key (flag) and the value. */
export class SyncConfigError extends Error {
  override name = 'SyncConfigError';
}

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
  output: list.optional(),
  reload: list.optional(),
  once: z.boolean().optional(),
  wait: seconds(60).optional(),
  interval: seconds(3600).optional(),
  'max-backoff': seconds(86_400).optional(),
  'reload-timeout': seconds(3600).optional(),
  'max-bytes': z.coerce.number().int().min(1).optional(),
  'metrics-port': port.optional(),
  'metrics-host': text.optional(),
  'serve-rpz': text.optional(),
  notify: list.optional(),
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
  // A mirror replaces the hub as the source; reports then go to the hub only when --hub is given too.
  const source =
    merged.mirror === undefined
      ? [
          ['--hub', hub],
          ['--token', token],
        ]
      : [];
  const missing = [
    ...source,
    ['--feed', merged.feed],
    ['--key', merged.key],
    ['--state', merged.state],
  ].filter(([, value]) => value === undefined);
  if (missing.length > 0) throw new SyncConfigError(`missing ${missing.map(([flag]) => flag).join(', ')}`);
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
  const config: SyncConfig = {
    ...(hub !== undefined && { hub }),
    ...(token !== undefined && { token }),
    ...(merged.mirror !== undefined && { mirror: merged.mirror }),
    feed: merged.feed as SyncConfig['feed'],
    keyFile: merged.key as string,
    stateDir: merged.state as string,
    outputs,
    once: merged.once ?? false,
    waitSeconds: merged.wait ?? 30,
    intervalSeconds: merged.interval ?? 10,
    maxBackoffSeconds: merged['max-backoff'] ?? 300,
    reloadTimeoutSeconds: merged['reload-timeout'] ?? 30,
    maxBytes: merged['max-bytes'] ?? DEFAULT_MAX_BYTES,
    render,
    notify: (merged.notify ?? []).map((value) => hostPort('--notify', value)),
  };
  if (merged['metrics-port'] !== undefined) {
    config.metrics = { host: merged['metrics-host'] ?? '127.0.0.1', port: merged['metrics-port'] };
  }
  if (merged['serve-rpz'] !== undefined) config.serveRpz = hostPort('--serve-rpz', merged['serve-rpz']);
  if (config.notify.length > 0 && !config.serveRpz) throw new SyncConfigError('--notify needs --serve-rpz');
  if (config.once && config.serveRpz) throw new SyncConfigError('--serve-rpz needs the daemon, not --once');
  return config;
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
