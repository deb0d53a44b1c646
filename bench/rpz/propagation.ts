// (b) of the RPZ benchmark: how fast a new version reaches real resolvers, and how long Unbound stalls.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunningNamed, startNamed } from '../lib/resolvers/bind.ts';
import {
  authZoneSnippet,
  findTool,
  freePort,
  INTERNET_ZONE,
  queryDns,
  type RunningUnbound,
  startUnbound,
} from '../lib/resolvers/unbound.ts';
import { mem, mib, pidByConfig } from './full-transfer.ts';
import {
  CHANGE_TIMEOUT_MS,
  LOAD_TIMEOUT_MS,
  POLL_EVERY_MS,
  rec,
  run,
  STALL_EVERY_MS,
  ZONE,
} from './settings.ts';
// ---------------------------------------------------------------------------------------------------
// (b) Change propagation.

export type Cleanup = Array<() => Promise<unknown>>;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Resolver {
  label: string;
  port: number;
  pid: number;
  /** BIND: everything it logged so far, for the timeline of a change. */
  log?: () => string;
}

/** Whether `name` is NXDOMAIN at `port` (a lost or late answer counts as not yet). */
export const blocked = (port: number, name: string) =>
  queryDns(port, name, 'A', 1_000).then(
    (r) => r.status === 'NXDOMAIN',
    () => false,
  );

/** Polls `name` at `port` until it is NXDOMAIN; milliseconds from `t0`. */
export async function blockedAfter(
  port: number,
  name: string,
  t0: number,
  everyMs = POLL_EVERY_MS,
  timeoutMs = CHANGE_TIMEOUT_MS,
): Promise<number> {
  while (!(await blocked(port, name))) {
    if (performance.now() > t0 + timeoutMs) throw new Error(`${name} not NXDOMAIN at port ${port} in time`);
    await sleep(everyMs);
  }
  return performance.now() - t0;
}

/** The names of `names` not (yet) NXDOMAIN at `port`, asked 64 at a time. */
export async function stillOpen(port: number, names: readonly string[]): Promise<string[]> {
  const open: string[] = [];
  for (let i = 0; i < names.length; i += 64) {
    const slice = names.slice(i, i + 64);
    const answers = await Promise.all(slice.map((n) => blocked(port, n)));
    slice.forEach((n, j) => {
      if (!answers[j]) open.push(n);
    });
  }
  return open;
}

export interface Stall {
  maxGapMs: number;
  answers: number;
  failures: number;
}

/** Asks `port` a new unrelated name every STALL_EVERY_MS until stopped; the longest gap between answers. */
export function stallProbe(port: number): { stop(): Promise<Stall> } {
  let running = true;
  const stats: Stall = { maxGapMs: 0, answers: 0, failures: 0 };
  let previous = performance.now();
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const answer = await queryDns(port, `q${i}.stall-probe.net`, 'A', 30_000).catch(() => undefined);
      const now = performance.now();
      if (answer?.status === 'NOERROR') stats.answers++;
      else stats.failures++;
      stats.maxGapMs = Math.max(stats.maxGapMs, now - previous);
      previous = now;
      await sleep(STALL_EVERY_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return stats;
    },
  };
}

export interface ChangeResult {
  /** From the trigger to the last added name answering NXDOMAIN. */
  ms: number;
  /** From the trigger to the polled name (the last in zone order) answering NXDOMAIN. */
  polledMs: number;
  /** Added names still not NXDOMAIN when checked right after the polled one. */
  late: number;
  /** How long that check of every added name took: the resolution of `ms` when `late` > 0. */
  sweepMs: number;
  /** Unbound only: the probe during the change. */
  stall?: Stall;
}

/**
 * One change at one resolver: every added name answers NOERROR first; `trigger` starts the change at
 * t0; the last name in zone order is polled until NXDOMAIN, then every other added name is asked at
 * once. A resolver that applies a change at once answers NXDOMAIN for all of them; names still open
 * are asked again until they are blocked, and the last of them sets the time.
 */
export async function change(
  resolver: Resolver,
  names: readonly string[],
  trigger: () => Promise<unknown>,
  probe: boolean,
): Promise<ChangeResult> {
  const { port } = resolver;
  const last = [...names].sort().at(-1) as string;
  const early = names.length - (await stillOpen(port, names)).length;
  if (early > 0) throw new Error(`${resolver.label}: ${early} added names are NXDOMAIN before the change`);
  const stall = probe ? stallProbe(port) : undefined;
  await sleep(300);
  const t0 = performance.now();
  const triggered = trigger();
  const polledMs = await blockedAfter(port, last, t0);
  const result: ChangeResult = { ms: polledMs, polledMs, late: 0, sweepMs: 0 };
  let open = names.filter((n) => n !== last);
  for (let sweep = 0; open.length > 0; sweep++) {
    const started = performance.now();
    const next: string[] = [];
    for (let i = 0; i < open.length; i += 64) {
      await Promise.all(
        open.slice(i, i + 64).map(async (name) => {
          if (!(await blocked(port, name))) next.push(name);
          else if (sweep > 0) result.ms = Math.max(result.ms, performance.now() - t0);
        }),
      );
    }
    if (sweep === 0) {
      result.late = next.length;
      result.sweepMs = performance.now() - started;
    }
    if (performance.now() > t0 + CHANGE_TIMEOUT_MS)
      throw new Error(`${resolver.label}: ${next.length} added names not NXDOMAIN in time`);
    open = next;
    if (open.length > 0) await sleep(POLL_EVERY_MS);
  }
  await triggered;
  await sleep(300);
  if (stall) result.stall = await stall.stop();
  return result;
}

export interface Resolvers {
  /** Unbound fed by our primary in IXFR pieces (the default), and one fed whole differences. */
  unboundXfr: Resolver;
  unboundWhole: Resolver;
  /** BIND secondaries: with a zone file (and so a journal), and in memory only. */
  bindXfr: Resolver;
  bindNoFile: Resolver;
  unboundFile: Resolver;
  bindFile: Resolver;
  /** Per transfer-path Unbound: the longest gap between its answers while it loaded 1M names by AXFR. */
  firstLoadStall: Stall[];
  reloadUnbound(): Promise<unknown>;
  reloadBind(): Promise<unknown>;
  stopTransferPath(): Promise<void>;
}

export interface ResolverPorts {
  /** Our primaries, one per transfer-path resolver, and the port each of those resolvers listens on. */
  unboundPrimary: number;
  unboundNotify: number;
  unboundWholePrimary: number;
  unboundWholeNotify: number;
  bindPrimary: number;
  bindXfr: number;
  bindNoFilePrimary: number;
  bindNoFileXfr: number;
}

/**
 * Starts the resolvers: first the Unbound that transfers from our primary, alone, with the stall
 * probe asking it throughout its first 1M-name load; then the others at once (their loads overlap).
 * Each is timed until it enforces the list.
 */
export async function startResolvers(
  dir: string,
  zoneFile: string,
  ports: ResolverPorts,
  probe: string,
  cleanup: Cleanup,
): Promise<Resolvers> {
  const root = join(dir, 'root.zone');
  await writeFile(root, INTERNET_ZONE);
  const rndcKey = join(dir, 'rndc.key');
  const keyClause = `key "bench-rndc" { algorithm hmac-sha256; secret "${randomBytes(32).toString('base64')}"; };`;
  await writeFile(rndcKey, `${keyClause}\n`);
  const controlPort = await freePort();
  const unboundBase = 'server:\n  module-config: "respip iterator"\n';
  const policy =
    '  recursion yes; allow-recursion { 127.0.0.1; }; notify no;\n' +
    '  response-policy { zone "rpz.takedown"; } qname-wait-recurse no break-dnssec yes min-update-interval 0;';
  const rootZone = `zone "." { type primary; file "${root}"; };`;
  let started = performance.now();
  const enforcing = async <T extends RunningUnbound | RunningNamed>(
    key: string,
    label: string,
    how: string,
    launch: Promise<T>,
  ): Promise<[T, Resolver]> => {
    const running = await launch;
    cleanup.push(running.stop);
    const resolver: Resolver = {
      label,
      port: running.port,
      pid: pidByConfig(running.configPath),
      ...('waitForLog' in running && { log: running.log }),
    };
    await blockedAfter(running.port, probe, started, 100, LOAD_TIMEOUT_MS).catch(() => {
      throw new Error(`${key} did not enforce the list in time`);
    });
    rec.figure(
      `${label} ${how}: start to 1M names enforced`,
      (performance.now() - started) / 1000,
      's wall',
      `RSS then ${mib(mem(resolver.pid).rss)} MiB, peak ${mib(mem(resolver.pid).peak)} MiB`,
    );
    return [running, resolver];
  };
  const unboundSecondary = (primary: number, notify: number) =>
    startUnbound(
      [
        `${unboundBase}  interface: 127.0.0.1@${notify}\n`,
        authZoneSnippet('.', root),
        `rpz:\n  name: "${ZONE}"\n  primary: 127.0.0.1@${primary}\n  allow-notify: 127.0.0.1\n`,
      ],
      { control: false, startTimeoutMs: LOAD_TIMEOUT_MS },
    );
  const bindSecondary = (primary: number, port: number, file: string) =>
    startNamed({
      port,
      options: policy,
      clauses: `${rootZone}
zone "rpz.takedown" { type secondary; primaries { 127.0.0.1 port ${primary}; };${file} allow-query { localhost; }; };`,
      startTimeoutMs: LOAD_TIMEOUT_MS,
    });

  // Each alone: a first load's stall is set against Unbound's own reload of the same names from a file.
  const firstLoadStall: Stall[] = [];
  const alone = async (key: string, label: string, primary: number, notify: number) => {
    started = performance.now();
    const launched = unboundSecondary(primary, notify);
    const firstLoad = stallProbe((await launched).port);
    const loaded = await enforcing(key, label, 'by transfer from our primary, alone', launched);
    firstLoadStall.push(await firstLoad.stop());
    return loaded;
  };
  const unboundXfr = await alone('unboundXfr', 'Unbound', ports.unboundPrimary, ports.unboundNotify);
  const unboundWhole = await alone(
    'unboundWhole',
    'Unbound (whole IXFRs)',
    ports.unboundWholePrimary,
    ports.unboundWholeNotify,
  );

  started = performance.now();
  const how = 'the other four loading at once';
  const settled = await Promise.allSettled([
    enforcing(
      'bindXfr',
      'BIND',
      `by transfer, zone file, ${how}`,
      bindSecondary(ports.bindPrimary, ports.bindXfr, ' file "rpz.takedown.db";'),
    ),
    enforcing(
      'bindNoFile',
      'BIND, no zone file',
      `by transfer, ${how}`,
      bindSecondary(ports.bindNoFilePrimary, ports.bindNoFileXfr, ''),
    ),
    enforcing(
      'unboundFile',
      'Unbound',
      `from the file, ${how}`,
      startUnbound(
        [unboundBase, authZoneSnippet('.', root), `rpz:\n  name: "${ZONE}"\n  zonefile: "${zoneFile}"\n`],
        {
          startTimeoutMs: LOAD_TIMEOUT_MS,
        },
      ),
    ),
    enforcing(
      'bindFile',
      'BIND',
      `from the file, ${how}`,
      startNamed({
        options: policy,
        clauses: `${keyClause}
controls { inet 127.0.0.1 port ${controlPort} allow { 127.0.0.1; } keys { "bench-rndc"; }; };
${rootZone}
zone "rpz.takedown" { type primary; file "${zoneFile}"; allow-query { localhost; }; };`,
        startTimeoutMs: LOAD_TIMEOUT_MS,
      }),
    ),
  ]);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const [bindXfr, bindNoFile, unboundFile, bindFile] = settled.map(
    (s) => (s as PromiseFulfilledResult<[RunningUnbound | RunningNamed, Resolver]>).value,
  ) as [
    [RunningNamed, Resolver],
    [RunningNamed, Resolver],
    [RunningUnbound, Resolver],
    [RunningNamed, Resolver],
  ];
  return {
    unboundXfr: unboundXfr[1],
    unboundWhole: unboundWhole[1],
    bindXfr: bindXfr[1],
    bindNoFile: bindNoFile[1],
    unboundFile: unboundFile[1],
    bindFile: bindFile[1],
    firstLoadStall,
    reloadUnbound: () => unboundFile[0].control('auth_zone_reload', ZONE),
    reloadBind: () =>
      run(findTool('rndc') ?? 'rndc', [
        '-k',
        rndcKey,
        '-s',
        '127.0.0.1',
        '-p',
        String(controlPort),
        'reload',
        'rpz.takedown',
      ]),
    stopTransferPath: async () => {
      await Promise.all([unboundXfr, unboundWhole, bindXfr, bindNoFile].map(([running]) => running.stop()));
    },
  };
}

const BIND_TIME = /^(\d{2})-(\w{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3}) /;

/** Milliseconds of a BIND log line's timestamp within its day (the lines compared are seconds apart). */
function bindTime(line: string): number | undefined {
  const m = BIND_TIME.exec(line);
  if (!m) return undefined;
  return ((Number(m[4]) * 60 + Number(m[5])) * 60 + Number(m[6])) * 1000 + Number(m[7]);
}

/**
 * Where BIND's time went in one change, from its own log (named -g prints milliseconds): from the
 * NOTIFY it received to each transfer's end (BIND's own transfer seconds beside it) and each RPZ
 * rebuild ("rpz: reload start/done"), which must finish before the new names are enforced.
 */
export function bindTimeline(logSince: string): string {
  const lines = logSince.split('\n');
  const notified = lines.find((l) => /notify from .*: serial/.test(l));
  const t0 = notified ? bindTime(notified) : undefined;
  if (t0 === undefined) return 'no NOTIFY in its log';
  const at = (line: string) => `${(((bindTime(line) ?? t0) - t0) / 1000).toFixed(2)} s`;
  const events: string[] = [];
  for (const line of lines) {
    const done = /Transfer completed: (\d+) messages, (\d+) records, .*?([\d.]+) secs/.exec(line);
    if (done) events.push(`transfer of ${done[2]} records done at ${at(line)} (${done[3]} s by its count)`);
    if (/rpz: .*reload start/.test(line)) events.push(`RPZ rebuild start ${at(line)}`);
    if (/rpz: .*reload done/.test(line)) events.push(`done ${at(line)}`);
  }
  return `after the NOTIFY: ${events.join(', ')}`;
}
