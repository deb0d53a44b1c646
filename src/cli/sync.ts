import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { initOutputs } from '../agent/init-outputs.ts';
import { lockStateDirectory } from '../agent/sync/state-lock.ts';
import { SyncAgent } from '../agent/sync/sync-agent.ts';
import {
  SYNC_DEFAULTS as D,
  resolveSyncConfig,
  type SyncConfig,
  SyncConfigError,
} from '../agent/sync/sync-config.ts';
import { jsonLines, type SyncLog } from '../agent/sync/sync-log.ts';
import { SyncMetrics, serveMetrics } from '../agent/sync/sync-metrics.ts';
import { parsePublicKeys } from '../core/keys.ts';
import { type ServedZone, serveZone } from '../dns/zone-feed.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

const FLAGS = {
  config: { type: 'string' },
  hub: { type: 'string' },
  token: { type: 'string' },
  mirror: { type: 'string' },
  feed: { type: 'string' },
  key: { type: 'string' },
  state: { type: 'string' },
  'agent-id': { type: 'string' },
  output: { type: 'string', multiple: true },
  reload: { type: 'string', multiple: true },
  'reload-timeout': { type: 'string' },
  timeout: { type: 'string' },
  once: { type: 'boolean' },
  init: { type: 'boolean' },
  wait: { type: 'string' },
  interval: { type: 'string' },
  'max-backoff': { type: 'string' },
  'max-bytes': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'serve-rpz': { type: 'string' },
  notify: { type: 'string', multiple: true },
  'rpz-piece-records': { type: 'string' },
} as const;

export const sync: Command = {
  name: 'sync',
  summary: 'the ISP agent: pull and verify feed artifacts, render resolver/proxy files, reload, report',
  usage:
    'sync --hub URL --token TOKEN --feed dns|url --key PUBLIC_KEY_FILE --state DIR --output FORMAT=PATH ...\n' +
    '       [--reload CMD ...] [--once | --init] [--metrics-port PORT] [--config FILE]\n' +
    '   or: takedown sync --mirror URL [--hub URL --token TOKEN] --feed dns|url --key FILE --state DIR --output ...\n' +
    '  --mirror URL           read the feed from a static mirror (what `takedown publish` wrote, on any HTTP\n' +
    "                         server, CDN or bucket) with the same checks as from the hub; the log's\n" +
    '                         consistency proofs come from its log tiles. --hub is then optional: reports\n' +
    '                         and key sets come from it when given, else reports are skipped\n' +
    '  --output FORMAT=PATH   repeatable; FORMAT one of rpz, unbound, dnsmasq, hosts, squid, squid-url\n' +
    '  --reload CMD           run after an output is replaced (Unbound: "unbound-control auth_zone_reload\n' +
    '                         rpz.takedown.", which re-reads only the zone). Either one\n' +
    '                         per --output, paired in order ("" = none for that output), or FORMAT=CMD for\n' +
    '                         every output of FORMAT. A failed reload keeps PATH.prev and is retried.\n' +
    `  --reload-timeout S     kill a reload command after S seconds (default ${D['reload-timeout']})\n` +
    '  --agent-id ID          the id reports are sent under (default: generated once, kept in the state\n' +
    '                         directory): the hub keeps one compliance row per agent of a token\n' +
    '  --init                 write every --output that does not exist yet, empty but valid, and exit 0\n' +
    '                         (run before the resolver starts, e.g. ExecStartPre); existing files are kept\n' +
    '  --once                 sync once and exit (cron): 0 when the outputs enforce the latest version\n' +
    `  --wait S               long-poll time the hub may hold a request (default ${D.wait}, at most 60);\n` +
    "                         a mirror's index.json is read again every 5 s meanwhile\n" +
    `  --interval S           least time between polls when the hub answers at once (default ${D.interval})\n` +
    `  --max-backoff S        cap of the exponential back-off after failures (default ${D['max-backoff']})\n` +
    `  --timeout S            deadline of a request to the hub beyond the long-poll wait (default ${D.timeout}),\n` +
    '                         headers and body together; a large body earns time while it keeps moving\n' +
    `  --max-bytes N          largest artifact accepted, after decompression (default ${D['max-bytes']})\n` +
    '  --metrics-port PORT    serve Prometheus text at http://HOST:PORT/metrics\n' +
    `  --metrics-host HOST    the address metrics listen on (default ${D['metrics-host']})\n` +
    '  --serve-rpz IP:PORT    also serve the policy zone over DNS (AXFR/IXFR, loopback transfers only);\n' +
    '                         --notify IP:PORT (repeatable) names secondaries to NOTIFY;\n' +
    '                         --rpz-piece-records N: records per IXFR to them (default 4096, 0: whole)\n' +
    '  --config FILE          JSON object with the same keys as the flags ("output": [...], "once": true,\n' +
    '                         "render": {"zone", "ttl", "walledGardenHost", "walledGardenAddresses"});\n' +
    '                         flags win; relative paths are relative to the file\n' +
    '  environment: TAKEDOWN_HUB, TAKEDOWN_TOKEN (keeps the token out of the process list)\n' +
    '  Logs are JSON lines on stderr. The state directory keeps the applied version, its entries and the\n' +
    '  trusted keys; on start the outputs are brought up to it before the hub is asked anything. One agent\n' +
    "  per state directory: its `lock` file names the running agent's pid (a dead one's is taken over).",
  async run(argv) {
    const { values } = parseFlags(argv, FLAGS);
    const { config: configPath, init, ...flags } = values;
    const config = await loadConfig(configPath, flags);
    if (init) {
      const { written, kept } = await initOutputs(config.outputs, config.render);
      const log = jsonLines((line) => process.stderr.write(line));
      log('info', 'outputs_initialized', { written, kept });
      return 0;
    }
    const keys = await parsePublicKeys(await readKeyFile(config.keyFile));
    // The flags were right; the file is not: its message alone, without the usage.
    if (!keys.ok) throw new SyncConfigError(`--key ${config.keyFile}: ${keys.error.message}`);
    const log = jsonLines((line) => process.stderr.write(line));
    const metrics = new SyncMetrics();
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const closers: Array<() => Promise<void>> = [];
    try {
      const lock = await lockStateDirectory(config.stateDir);
      closers.push(lock.release);
      if (lock.takenOverFrom !== undefined) {
        log('warn', 'stale_lock_taken_over', { stateDir: config.stateDir, pid: lock.takenOverFrom });
      }
      if (config.metrics) {
        const served = await serveMetrics(metrics, config.metrics.host, config.metrics.port);
        closers.push(served.close);
        log('info', 'metrics_listening', { url: `http://${config.metrics.host}:${served.port}/metrics` });
      }
      const zone = config.serveRpz ? await startZone(config, log) : undefined;
      if (zone) closers.push(zone.close);
      const agent = await SyncAgent.open({ config, pinned: keys.value, log, metrics, ...(zone && { zone }) });
      log('info', 'started', {
        source: config.mirror ?? config.hub,
        feed: config.feed,
        version: agent.version,
        agentId: agent.agentId,
        once: config.once,
      });
      if (config.once) return (await agent.syncOnce(stop.signal)) ? 0 : 1;
      await agent.run(stop.signal);
      log('info', 'stopped', { version: agent.version });
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const close of closers.reverse()) await close();
    }
  },
};

async function loadConfig(path: string | undefined, flags: Record<string, unknown>): Promise<SyncConfig> {
  let file: { values: unknown; dir: string } | undefined;
  if (path !== undefined) {
    const text = await readFile(path, 'utf8').catch((error: Error) => {
      throw new UsageError(`--config ${path}: ${error.message}`);
    });
    try {
      file = { values: JSON.parse(text), dir: dirname(resolve(path)) };
    } catch (error) {
      throw new UsageError(`--config ${path}: not JSON: ${(error as Error).message}`);
    }
  }
  try {
    return resolveSyncConfig({ flags, env: process.env, ...(file && { file }) });
  } catch (error) {
    if (error instanceof SyncConfigError) throw new UsageError(error.message);
    throw error;
  }
}

function readKeyFile(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: Error) => {
    throw new SyncConfigError(`--key ${path}: ${error.message}`);
  });
}

async function startZone(config: SyncConfig, log: SyncLog): Promise<ServedZone> {
  const { host, port } = config.serveRpz as { host: string; port: number };
  const zone = await serveZone({
    host,
    port,
    render: config.render,
    notify: config.notify,
    ...(config.rpzPieceRecords !== undefined && { pieceRecords: config.rpzPieceRecords }),
    log: (event) =>
      log(event.event === 'transfer' || event.event === 'notify' ? 'info' : 'warn', `dns_${event.event}`, {
        message: event.message,
        ...(event.client && { client: event.client }),
      }),
  });
  log('info', 'rpz_listening', {
    host: zone.address.host,
    port: zone.address.port,
    zone: config.render.zone,
  });
  return zone;
}
