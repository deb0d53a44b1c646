/**
 * RPZ over DNS at 1M names: (a) a full AXFR from our primary (`serveZone`) against BIND serving the
 * same zone file; (b) how fast a new version reaches a real Unbound and a real BIND by NOTIFY + IXFR
 * from our primary, against the file path (render the RPZ file, reload it), and how long Unbound stops
 * answering meanwhile.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { renderToFile } from '../src/agent/render-to-file.ts';
import { encodeDelta } from '../src/core/plain-payload.ts';
import { PlainState } from '../src/core/plain-state.ts';
import { parseTarget } from '../src/core/target.ts';
import type { FeedEntry } from '../src/core/types.ts';
import type { DnsLogEvent } from '../src/dns/responder.ts';
import { serveZone, zoneChanges } from '../src/dns/zone-feed.ts';
import { resolveRenderOptions, rpzRecords } from '../src/render/index.ts';
import { type RunningNamed, startNamed } from '../test/helpers/bind.ts';
import {
  authZoneSnippet,
  findTool,
  freePort,
  missingTools,
  queryDns,
  type RunningUnbound,
  startUnbound,
} from '../test/helpers/unbound.ts';
import { cpuSecondsOf, memoryOf } from './lib/child.ts';
import { missingData, NRD_LIST, REPO_ROOT, readLines, shownPath, shuffled } from './lib/data.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { collectGarbage, MiB, median } from './lib/timing.ts';

const run = promisify(execFile);

const NAMES = 1_000_000;
const SMALL = 10;
const LARGE = 10_000;
const AXFR_ROUNDS = 3;
const ZONE = 'rpz.takedown.';
const GOAL_UNBOUND_MS = 2_000;
const GOAL_SPEEDUP = 5;
const GOAL_STALL_MS = 100;
const STALL_EVERY_MS = 10;
const POLL_EVERY_MS = 5;
const LOAD_TIMEOUT_MS = 300_000;
const CHANGE_TIMEOUT_MS = 180_000;
const MB = 1e6;

/** "The rest of the internet": every name outside the policy resolves to one address. */
const ROOT_ZONE =
  '$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n* A 192.0.2.99\n';

const rec = new Recorder(
  'rpz',
  'RPZ over DNS: full transfer and change propagation at 1M names',
  `${formatNumber(NAMES)} names of ${shownPath(NRD_LIST)} (seeded shuffle, \`parseTarget\`) as \`domain\` entries ` +
    '(2M policy records), held as a `PlainState` snapshot payload in a child process, as the agent holds it. ' +
    '(a) Full AXFR, raw TCP client counting wire bytes, 3 rounds interleaved, median: our primary (`serveZone`, ' +
    'initial version published as the agent does) vs BIND 9.18 `named -n 1` with `type primary` on the RPZ file ' +
    'rendered from the same state and version. (b) Four resolvers loaded with the same 1M names: Unbound 1.17 ' +
    '(`rpz:` + `primary:` our primary, no zonefile) and BIND (`type secondary`, `response-policy`), each the ' +
    'NOTIFYed secondary of its own primary process (same state and versions); Unbound (`rpz:` + `zonefile:`) and BIND (`type primary` on the file) for the file path, ' +
    'reloaded with `unbound-control auth_zone_reload rpz.takedown.` and `rndc reload rpz.takedown` after the agent ' +
    're-rendered the file. A root zone with `* A 192.0.2.99` stands for the internet. Then a version adding 10 new ' +
    'names and one adding 10k: time from the publish (or render) command to the last added name answering NXDOMAIN ' +
    `(polled every ${POLL_EVERY_MS} ms over UDP, then every added name checked), each resolver alone. ` +
    `Meanwhile a loop asks Unbound an unrelated new name every ${STALL_EVERY_MS} ms; the longest gap between two ` +
    'answers is the stall. One round per change (each takes a reload of 1M names on the file path).',
);

// ---------------------------------------------------------------------------------------------------
// The agent's side, in a child process: the state, and either the served zone or the rendered file.

type AgentMode = 'primary' | 'file';

/** Publish a version adding `add`, or (without them) only run a full garbage collection. */
interface AgentCommand {
  id: number;
  version?: number;
  add?: FeedEntry[];
}
interface AgentReply {
  id: number;
  /** Applying the delta payload to the state. */
  applyMs: number;
  /** Publishing to the served zone, or rendering the RPZ file. */
  workMs: number;
  /** After a garbage collection command: `process.memoryUsage()` of the agent. */
  memory?: NodeJS.MemoryUsage;
}
interface AgentReady {
  ready: true;
  loadMs: number;
  /** RSS after a full GC before and after publishing the first version (primary only). */
  rss: { before: number; after: number };
}
type AgentMessage = AgentReady | AgentReply | { log: DnsLogEvent } | { error: string };

const rssNow = () => {
  collectGarbage();
  return process.memoryUsage().rss;
};

async function agentChild(mode: AgentMode, payloadPath: string, arg: string, notify: string): Promise<void> {
  const send = (message: AgentMessage) => process.send?.(message);
  const started = performance.now();
  const loaded = PlainState.fromSnapshot(readFileSync(payloadPath));
  if (!loaded.ok) throw new Error(`payload: ${loaded.error.message}`);
  let state = loaded.value;
  const options = resolveRenderOptions();
  const render = (version: number) => renderToFile(arg, 'rpz', state.entries(), { version, options });
  let publish: (version: number, previous: PlainState, delta: Uint8Array) => void;
  const rss = { before: 0, after: 0 };
  if (mode === 'primary') {
    const zone = await serveZone({
      host: '127.0.0.1',
      port: Number(arg),
      render: options,
      notify: JSON.parse(notify) as Array<{ host: string; port: number }>,
      log: (event) => {
        if (event.event === 'transfer' || event.event === 'error') send({ log: event });
      },
    });
    rss.before = rssNow();
    // As the agent publishes the state it starts with: every entry an add from version 0.
    zone.publish(1, state, zoneChanges(PlainState.empty(), state));
    rss.after = rssNow();
    publish = (version, previous, delta) => zone.publish(version, state, zoneChanges(previous, state, delta));
  } else {
    await render(1);
    publish = () => undefined;
  }
  collectGarbage();
  process.on('message', (command: AgentCommand) => {
    void (async () => {
      if (command.add === undefined || command.version === undefined) {
        collectGarbage();
        return send({ id: command.id, applyMs: 0, workMs: 0, memory: process.memoryUsage() });
      }
      const t0 = performance.now();
      const delta = encodeDelta(command.add.map((entry) => ({ op: 'add' as const, ...entry })));
      const previous = state;
      const next = previous.applyDelta(delta);
      if (!next.ok) throw new Error(next.error.message);
      state = next.value;
      const t1 = performance.now();
      if (mode === 'primary') publish(command.version, previous, delta);
      else await render(command.version);
      send({ id: command.id, applyMs: t1 - t0, workMs: performance.now() - t1 });
    })().catch((error: Error) => send({ error: error.stack ?? error.message }));
  });
  send({ ready: true, loadMs: performance.now() - started, rss });
}

interface Agent {
  pid: number;
  loadMs: number;
  rss: AgentReady['rss'];
  logs: DnsLogEvent[];
  publish(version: number, add: FeedEntry[]): Promise<AgentReply>;
  collectGarbage(): Promise<AgentReply>;
  stop(): Promise<void>;
}

function startAgent(mode: AgentMode, payloadPath: string, arg: string, notify = '[]'): Promise<Agent> {
  const script = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, '--agent', mode, payloadPath, arg, notify],
    { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const logs: DnsLogEvent[] = [];
  const waiting = new Map<number, (reply: AgentReply) => void>();
  let failure: ((error: Error) => void) | undefined;
  let ids = 0;
  const request = (command: Omit<AgentCommand, 'id'>) =>
    new Promise<AgentReply>((done, fail) => {
      const id = ++ids;
      failure = fail;
      waiting.set(id, done);
      child.send({ id, ...command } satisfies AgentCommand);
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    failure = reject;
    child.once('exit', (code) => failure?.(new Error(`${mode} agent exited with ${code}`)));
    child.on('message', (message: AgentMessage) => {
      if ('log' in message) logs.push(message.log);
      else if ('error' in message) failure?.(new Error(`${mode} agent: ${message.error}`));
      else if ('ready' in message)
        resolve({
          pid: child.pid as number,
          loadMs: message.loadMs,
          rss: message.rss,
          logs,
          stop,
          publish: (version, add) => request({ version, add }),
          collectGarbage: () => request({}),
        });
      else waiting.get(message.id)?.(message);
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// (a) Full zone transfer.

interface Transfer {
  seconds: number;
  bytes: number;
  messages: number;
  records: number;
}

/** Offset just past the (possibly compressed) name at `offset`. */
function skipName(message: Buffer, offset: number): number {
  for (;;) {
    const length = message[offset] as number;
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2;
    offset += 1 + length;
  }
}

/** AXFR of the policy zone from 127.0.0.1:`port`, read to its closing SOA; only counts what arrives. */
function axfr(port: number): Promise<Transfer> {
  const name = Buffer.concat([
    ...ZONE.slice(0, -1)
      .split('.')
      .map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])),
    Buffer.from([0]),
  ]);
  const query = Buffer.alloc(2 + 12 + name.length + 4);
  query.writeUInt16BE(query.length - 2, 0);
  query.writeUInt16BE(0x4242, 2);
  query.writeUInt16BE(1, 6);
  name.copy(query, 14);
  query.writeUInt16BE(252, 14 + name.length);
  query.writeUInt16BE(1, 16 + name.length);
  const result: Transfer = { seconds: 0, bytes: 0, messages: 0, records: 0 };
  let soas = 0;
  let pending: Buffer = Buffer.alloc(0);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(query));
    socket.setTimeout(60_000, () => socket.destroy(new Error(`AXFR from port ${port} stalled`)));
    socket.on('error', reject);
    socket.on('close', () =>
      reject(new Error(`AXFR from port ${port} ended after ${result.records} records`)),
    );
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        result.bytes += 2 + length;
        result.messages++;
        const rcode = message.readUInt16BE(2) & 0x0f;
        if (rcode !== 0) return socket.destroy(new Error(`AXFR from port ${port}: rcode ${rcode}`));
        let offset = 12;
        for (let q = message.readUInt16BE(4); q > 0; q--) offset = skipName(message, offset) + 4;
        for (let a = message.readUInt16BE(6); a > 0; a--) {
          offset = skipName(message, offset);
          if (message.readUInt16BE(offset) === 6) soas++;
          offset += 10 + message.readUInt16BE(offset + 8);
          result.records++;
        }
        if (soas === 2) {
          result.seconds = (performance.now() - start) / 1000;
          socket.removeAllListeners('close');
          socket.destroy();
          return resolve(result);
        }
      }
    });
  });
}

/** The process whose command line names `configPath` (the helpers start named/unbound with it). */
function pidByConfig(configPath: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(configPath) && /(named|unbound)$/.test(argv[0] ?? '')) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  throw new Error(`no process runs with ${configPath}`);
}

const mem = (pid: number) => {
  const m = memoryOf(pid);
  if (!m) throw new Error(`cannot read the memory of process ${pid}`);
  return m;
};
const mib = (bytes: number) => formatNumber(bytes / MiB);

async function fullTransfer(primary: Agent, primaryPort: number, zoneFile: string, cleanup: Cleanup) {
  const named = await startNamed({
    options: '  recursion no; notify no;',
    clauses: `zone "rpz.takedown" { type primary; file "${zoneFile}"; allow-transfer { 127.0.0.1; }; };`,
    startTimeoutMs: LOAD_TIMEOUT_MS,
  });
  cleanup.push(named.stop);
  await named.waitForLog(/rpz\.takedown\/IN: loaded serial 1/, LOAD_TIMEOUT_MS);
  const namedPid = pidByConfig(named.configPath);
  const before = { ours: mem(primary.pid), bind: mem(namedPid) };
  const servers = [
    { key: 'ours', port: primaryPort, pid: primary.pid },
    { key: 'bind', port: named.port, pid: namedPid },
  ] as const;
  const runs: Record<'ours' | 'bind', Array<Transfer & { cpu: number }>> = { ours: [], bind: [] };
  for (let round = 0; round < AXFR_ROUNDS; round++) {
    for (const server of servers) {
      const cpu = cpuSecondsOf(server.pid) ?? Number.NaN;
      const transfer = await axfr(server.port).catch((error: Error) => {
        throw new Error(`${error.message}; named's log ends:\n${named.log().slice(-3000)}`);
      });
      runs[server.key].push({ ...transfer, cpu: (cpuSecondsOf(server.pid) ?? Number.NaN) - cpu });
      console.log(`  AXFR ${server.key}: ${transfer.seconds.toFixed(2)} s, ${transfer.records} records`);
    }
  }
  const after = { ours: mem(primary.pid), bind: mem(namedPid) };
  const { memory } = await primary.collectGarbage();
  const collected = mem(primary.pid).rss;
  await named.stop();

  const summary = (key: 'ours' | 'bind') => {
    const all = runs[key];
    const seconds = median(all.map((r) => r.seconds));
    return { ...(all[0] as Transfer), seconds, cpu: median(all.map((r) => r.cpu)) };
  };
  const ours = summary('ours');
  const bind = summary('bind');
  if (ours.records !== bind.records)
    throw new Error(`AXFR record counts differ: ours ${ours.records}, BIND ${bind.records}`);
  for (const [label, s] of [
    ['our primary (serveZone)', ours],
    ['BIND primary', bind],
  ] as const) {
    rec.figure(
      `AXFR from ${label}`,
      s.seconds,
      's wall',
      `median of ${AXFR_ROUNDS}: ${runs[label === 'BIND primary' ? 'bind' : 'ours'].map((r) => r.seconds.toFixed(2)).join(', ')} s; server CPU ${s.cpu.toFixed(2)} s`,
    );
    rec.figure(
      `AXFR from ${label}: throughput`,
      s.bytes / MB / s.seconds,
      'MB/s wall',
      `${(s.bytes / MB).toFixed(1)} MB on the wire, ${formatNumber(s.records)} records in ${formatNumber(s.messages)} messages`,
    );
  }
  rec.figure(
    'RSS of our primary (1M-entry state + journal)',
    after.ours.rss / MiB,
    'MiB',
    `${mib(before.ours.rss)} MiB before the transfers, ${mib(collected)} MiB after them and a full GC ` +
      `(JavaScript heap then ${mib(memory?.heapUsed ?? Number.NaN)} MiB used of ${mib(memory?.heapTotal ?? Number.NaN)} ` +
      `MiB reserved, buffers ${mib(memory?.external ?? Number.NaN)} MiB); peak ${mib(after.ours.peak)} MiB`,
  );
  rec.figure(
    'of which the first publish (journal step 0 -> 1: the whole zone as adds)',
    (primary.rss.after - primary.rss.before) / MiB,
    'MiB',
    `RSS after a full GC, ${mib(primary.rss.before)} -> ${mib(primary.rss.after)} MiB`,
  );
  rec.figure(
    'RSS of the BIND primary (zone loaded)',
    after.bind.rss / MiB,
    'MiB',
    `${mib(before.bind.rss)} MiB before the transfers; peak ${mib(after.bind.peak)} MiB (loading included)`,
  );
  rec.goal(
    'AXFR of 1M names: our primary no slower than BIND (server CPU per transfer, median)',
    '<= BIND',
    `${ours.cpu.toFixed(2)} s vs ${bind.cpu.toFixed(2)} s CPU (${(ours.cpu / bind.cpu).toFixed(2)}x); wall ` +
      `${ours.seconds.toFixed(2)} s vs ${bind.seconds.toFixed(2)} s (${(ours.seconds / bind.seconds).toFixed(2)}x)`,
    ours.cpu <= bind.cpu,
  );
  if (memory) {
    const accounted = memory.heapTotal + memory.external;
    rec.note(
      `Our primary's RSS grew by ${mib(collected - before.ours.rss)} MiB over the ${AXFR_ROUNDS} full transfers and ` +
        `stayed after a full GC, when the JavaScript heap reserved ${mib(memory.heapTotal)} MiB and buffers held ` +
        `${mib(memory.external)} MiB: ${mib(collected - accounted)} MiB of RSS was neither (the runtime's own ` +
        'memory and native memory the allocator kept after the transfers).',
    );
  }
  rec.note(
    `AXFR wire size: ours ${(ours.bytes / MB).toFixed(1)} MB, BIND ${(bind.bytes / MB).toFixed(1)} MB for the same ` +
      `${formatNumber(ours.records)} records (BIND compresses owner names; ours does not).`,
  );
}

// ---------------------------------------------------------------------------------------------------
// (b) Change propagation.

type Cleanup = Array<() => Promise<unknown>>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Resolver {
  label: string;
  port: number;
  pid: number;
}

/** Whether `name` is NXDOMAIN at `port` (a lost or late answer counts as not yet). */
const blocked = (port: number, name: string) =>
  queryDns(port, name, 'A', 1_000).then(
    (r) => r.status === 'NXDOMAIN',
    () => false,
  );

/** Polls `name` at `port` until it is NXDOMAIN; milliseconds from `t0`. */
async function blockedAfter(
  port: number,
  name: string,
  t0: number,
  everyMs = POLL_EVERY_MS,
): Promise<number> {
  while (!(await blocked(port, name))) {
    if (performance.now() > t0 + CHANGE_TIMEOUT_MS)
      throw new Error(`${name} not NXDOMAIN at port ${port} in time`);
    await sleep(everyMs);
  }
  return performance.now() - t0;
}

/** The names of `names` not (yet) NXDOMAIN at `port`, asked 64 at a time. */
async function stillOpen(port: number, names: readonly string[]): Promise<string[]> {
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

interface Stall {
  maxGapMs: number;
  answers: number;
  failures: number;
}

/** Asks `port` a new unrelated name every STALL_EVERY_MS until stopped; the longest gap between answers. */
function stallProbe(port: number): { stop(): Promise<Stall> } {
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

interface ChangeResult {
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
async function change(
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

interface Resolvers {
  unboundXfr: Resolver;
  bindXfr: Resolver;
  unboundFile: Resolver;
  bindFile: Resolver;
  reloadUnbound(): Promise<unknown>;
  reloadBind(): Promise<unknown>;
  stopTransferPath(): Promise<void>;
}

/** Starts the four resolvers at once (their loads overlap); each is timed until it enforces the list. */
async function startResolvers(
  dir: string,
  zoneFile: string,
  ports: { unboundPrimary: number; bindPrimary: number; unboundNotify: number; bindXfr: number },
  probe: string,
  cleanup: Cleanup,
): Promise<Resolvers> {
  const root = join(dir, 'root.zone');
  await writeFile(root, ROOT_ZONE);
  const rndcKey = join(dir, 'rndc.key');
  const keyClause = `key "bench-rndc" { algorithm hmac-sha256; secret "${randomBytes(32).toString('base64')}"; };`;
  await writeFile(rndcKey, `${keyClause}\n`);
  const controlPort = await freePort();
  const unboundBase = 'server:\n  module-config: "respip iterator"\n';
  const policy =
    '  recursion yes; allow-recursion { 127.0.0.1; }; notify no;\n' +
    '  response-policy { zone "rpz.takedown"; } qname-wait-recurse no break-dnssec yes min-update-interval 0;';
  const rootZone = `zone "." { type primary; file "${root}"; };`;
  const started = performance.now();
  const enforcing = async <T extends RunningUnbound | RunningNamed>(
    key: keyof Resolvers,
    label: string,
    launch: Promise<T>,
  ): Promise<[T, Resolver]> => {
    const running = await launch;
    cleanup.push(running.stop);
    const resolver = { label, port: running.port, pid: pidByConfig(running.configPath) };
    await blockedAfter(running.port, probe, started, 100).catch(() => {
      throw new Error(`${key} did not enforce the list in time`);
    });
    const how = key.endsWith('Xfr') ? 'by transfer from our primary' : 'from the file';
    rec.figure(
      `${label} ${how}: start to 1M names enforced`,
      (performance.now() - started) / 1000,
      's wall',
      `the four resolvers loading at once; RSS then ${mib(mem(resolver.pid).rss)} MiB, peak ${mib(mem(resolver.pid).peak)} MiB`,
    );
    return [running, resolver];
  };
  const settled = await Promise.allSettled([
    enforcing(
      'unboundXfr',
      'Unbound',
      startUnbound(
        [
          `${unboundBase}  interface: 127.0.0.1@${ports.unboundNotify}\n`,
          authZoneSnippet('.', root),
          `rpz:\n  name: "${ZONE}"\n  primary: 127.0.0.1@${ports.unboundPrimary}\n  allow-notify: 127.0.0.1\n`,
        ],
        { control: false, startTimeoutMs: LOAD_TIMEOUT_MS },
      ),
    ),
    enforcing(
      'bindXfr',
      'BIND',
      startNamed({
        port: ports.bindXfr,
        options: policy,
        clauses: `${rootZone}
zone "rpz.takedown" { type secondary; primaries { 127.0.0.1 port ${ports.bindPrimary}; }; file "rpz.takedown.db"; allow-query { localhost; }; };`,
        startTimeoutMs: LOAD_TIMEOUT_MS,
      }),
    ),
    enforcing(
      'unboundFile',
      'Unbound',
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
  const [unboundXfr, bindXfr, unboundFile, bindFile] = settled.map(
    (s) => (s as PromiseFulfilledResult<[RunningUnbound | RunningNamed, Resolver]>).value,
  ) as [
    [RunningUnbound, Resolver],
    [RunningNamed, Resolver],
    [RunningUnbound, Resolver],
    [RunningNamed, Resolver],
  ];
  return {
    unboundXfr: unboundXfr[1],
    bindXfr: bindXfr[1],
    unboundFile: unboundFile[1],
    bindFile: bindFile[1],
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
      await Promise.all([unboundXfr[0].stop(), bindXfr[0].stop()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------------

/** Distinct domain entries from the shuffled list: the first `base` ones, then adds that no base name covers. */
function pickEntries(lines: readonly string[]): {
  base: FeedEntry[];
  small: FeedEntry[];
  large: FeedEntry[];
} {
  const options = resolveRenderOptions();
  const seen = new Set<string>();
  const base: FeedEntry[] = [];
  const adds: FeedEntry[] = [];
  const covered = (name: string) => {
    for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
      if (seen.has(name.slice(dot + 1))) return true;
    }
    return false;
  };
  for (const line of lines) {
    const target = parseTarget(line);
    if (!target.ok || target.value.kind !== 'domain' || target.value.isIp) continue;
    const entry: FeedEntry = {
      expression: target.value.expression,
      kind: 'domain',
      category: 'other',
      action: 'block',
    };
    if (seen.has(target.value.host) || rpzRecords(entry, options).length !== 2) continue;
    if (base.length < NAMES) {
      seen.add(target.value.host);
      base.push(entry);
    } else if (!covered(target.value.host)) {
      seen.add(target.value.host);
      adds.push(entry);
      if (adds.length === SMALL + LARGE)
        return { base, small: adds.slice(0, SMALL), large: adds.slice(SMALL) };
    }
  }
  throw new Error(`the list has too few names: ${base.length} + ${adds.length}`);
}

const nameOf = (entry: FeedEntry) => entry.expression.slice(0, -1);

/** The name of the first entry of a snapshot payload: the resolvers block it once they hold the list. */
function firstName(payload: string): string {
  const state = PlainState.fromSnapshot(readFileSync(payload));
  if (!state.ok) throw new Error(state.error.message);
  const first = state.value.entries().next();
  if (first.done) throw new Error('empty state');
  return nameOf(first.value);
}

interface Measured {
  /** Per change size, per resolver label. */
  transfer: Array<Record<string, ChangeResult>>;
  file: Array<Record<string, ChangeResult>>;
  agentMs: { transfer: string[]; file: string[] };
  quietGapMs: number;
}

async function main(): Promise<void> {
  const missing =
    missingData(NRD_LIST) ??
    missingTools(['named', 'named-checkconf', 'rndc', 'unbound', 'unbound-checkconf', 'unbound-control'], {
      requiredInCi: false,
    });
  if (missing) {
    rec.skip(missing);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'takedown-bench-rpz-'));
  const cleanup: Cleanup = [];
  const began = performance.now();
  try {
    const payload = join(dir, 'state.payload');
    const zoneFile = join(dir, 'rpz.takedown.zone');
    const { small, large } = await (async () => {
      const picked = pickEntries(shuffled(readLines(NRD_LIST)));
      await writeFile(payload, PlainState.fromEntries(picked.base).toSnapshotPayload());
      return picked;
    })();
    collectGarbage();

    const fileAgent = await startAgent('file', payload, zoneFile);
    cleanup.push(fileAgent.stop);
    rec.figure('file agent: load the state + render the 1M-name RPZ file', fileAgent.loadMs / 1000, 's wall');
    const ports = {
      unboundPrimary: await freePort(),
      bindPrimary: await freePort(),
      unboundNotify: await freePort(),
      bindXfr: await freePort(),
    };
    // One primary per resolver, so that each resolver's change is measured with the other one idle.
    const target = (port: number) => JSON.stringify([{ host: '127.0.0.1', port }]);
    const primaries = {
      Unbound: await startAgent(
        'primary',
        payload,
        String(ports.unboundPrimary),
        target(ports.unboundNotify),
      ),
      BIND: await startAgent('primary', payload, String(ports.bindPrimary), target(ports.bindXfr)),
    };
    cleanup.push(primaries.Unbound.stop, primaries.BIND.stop);
    rec.figure(
      'our primary: load the state + publish the first version',
      primaries.Unbound.loadMs / 1000,
      's wall',
    );

    console.log('  (a) full transfer');
    await fullTransfer(primaries.Unbound, ports.unboundPrimary, zoneFile, cleanup);

    console.log('  (b) four resolvers loading 1M names each');
    const r = await startResolvers(dir, zoneFile, ports, firstName(payload), cleanup);
    const quiet = stallProbe(r.unboundXfr.port);
    await sleep(3_000);
    const measured: Measured = {
      transfer: [],
      file: [],
      agentMs: { transfer: [], file: [] },
      quietGapMs: (await quiet.stop()).maxGapMs,
    };
    const logsBefore = { Unbound: primaries.Unbound.logs.length, BIND: primaries.BIND.logs.length };
    let version = 1;
    for (const adds of [small, large]) {
      version++;
      const names = adds.map(nameOf);
      const results: Record<string, ChangeResult> = {};
      for (const [label, resolver] of [
        ['Unbound', r.unboundXfr],
        ['BIND', r.bindXfr],
      ] as const) {
        console.log(`  transfer path, ${label}: version ${version}, ${adds.length} adds`);
        let reply: AgentReply | undefined;
        results[label] = await change(
          resolver,
          names,
          async () => {
            reply = await primaries[label].publish(version, adds);
          },
          label === 'Unbound',
        );
        if (reply) measured.agentMs.transfer.push(agentNote(label, adds.length, reply));
      }
      measured.transfer.push(results);
    }
    const served = (['Unbound', 'BIND'] as const).flatMap((label) =>
      primaries[label].logs.slice(logsBefore[label]).map((e) => `to ${label}: ${e.message}`),
    );
    await r.stopTransferPath();

    version = 1;
    for (const adds of [small, large]) {
      version++;
      const names = adds.map(nameOf);
      console.log(`  file path: version ${version}, ${adds.length} adds`);
      // The agent renders once per version; each resolver then reloads on its own, the other idle.
      const t0 = performance.now();
      const reply = await fileAgent.publish(version, adds);
      const renderMs = performance.now() - t0;
      measured.agentMs.file.push(agentNote('file', adds.length, reply));
      const results: Record<string, ChangeResult> = {};
      for (const [label, resolver, reload] of [
        ['Unbound', r.unboundFile, r.reloadUnbound],
        ['BIND', r.bindFile, r.reloadBind],
      ] as const) {
        console.log(`  file path, ${label}: reload`);
        const result = await change(resolver, names, reload, label === 'Unbound');
        results[label] = { ...result, ms: renderMs + result.ms, polledMs: renderMs + result.polledMs };
      }
      measured.file.push(results);
    }
    report(measured, served);
    rec.note(`Whole benchmark: ${((performance.now() - began) / 1000).toFixed(0)} s wall.`);
    rec.write();
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

const agentNote = (label: string, adds: number, reply: AgentReply) =>
  `${label} ${formatNumber(adds)}: ${Math.round(reply.applyMs)} + ${Math.round(reply.workMs)} ms`;

function report(m: Measured, served: string[]): void {
  const sizes = [SMALL, LARGE].map((n) => formatNumber(n));
  for (const path of ['transfer', 'file'] as const) {
    m[path].forEach((results, i) => {
      for (const [label, result] of Object.entries(results)) {
        rec.figure(
          `${path}: ${sizes[i]} adds to NXDOMAIN at ${label}`,
          result.ms,
          'ms',
          result.late === 0
            ? 'all at once'
            : `the polled name at ${Math.round(result.polledMs)} ms, ${formatNumber(result.late)} others later ` +
                `(checked in sweeps of ~${Math.round(result.sweepMs)} ms)`,
        );
        if (result.stall)
          rec.figure(
            `${path}: ${sizes[i]} adds, longest gap between Unbound answers`,
            result.stall.maxGapMs,
            'ms',
            `${result.stall.answers} answers, ${result.stall.failures} lost or not NOERROR`,
          );
      }
    });
  }
  rec.figure(
    'probe alone: longest gap between Unbound answers, 3 s with no change',
    m.quietGapMs,
    'ms',
    `the noise floor of the stall probe (one query every ${STALL_EVERY_MS} ms)`,
  );
  m.transfer.forEach((results, i) => {
    const unbound = results.Unbound?.ms as number;
    rec.goal(
      `transfer: ${sizes[i]} adds enforced by Unbound`,
      `< ${GOAL_UNBOUND_MS} ms`,
      `${Math.round(unbound)} ms`,
      unbound < GOAL_UNBOUND_MS,
    );
  });
  for (const label of ['Unbound', 'BIND']) {
    m.transfer.forEach((results, i) => {
      const fast = results[label]?.ms as number;
      const slow = m.file[i]?.[label]?.ms as number;
      rec.goal(
        `${label}: ${sizes[i]} adds, transfer vs file path`,
        `>= ${GOAL_SPEEDUP}x faster`,
        `${(slow / fast).toFixed(1)}x (${Math.round(fast)} ms vs ${Math.round(slow)} ms)`,
        slow / fast >= GOAL_SPEEDUP,
      );
    });
  }
  const stall = Math.max(...m.transfer.map((results) => results.Unbound?.stall?.maxGapMs ?? Number.NaN));
  rec.goal(
    'transfer: no Unbound query stall during either change (longest gap between answers)',
    `<= ${GOAL_STALL_MS} ms`,
    `${Math.round(stall)} ms`,
    stall <= GOAL_STALL_MS,
  );
  rec.note(
    `Agent work inside those times (apply the delta to the 1M-entry state + publish it, or + render the file): ` +
      `${[...m.agentMs.transfer, ...m.agentMs.file].join('; ')}.`,
  );
  rec.note(`Transfers our primaries served during the changes: ${served.join('; ')}.`);
  rec.note(
    'Each resolver is measured alone: the transfer path has one primary per resolver (both hold the same ' +
      'state and versions); on the file path the agent renders once per version, then each resolver reloads while ' +
      'the other is idle, and its time is the render plus its own reload-to-NXDOMAIN. BIND runs with one worker ' +
      'thread (`named -n 1`, as the test helper starts it).',
  );
}

if (process.argv[2] === '--agent') {
  const [mode, payloadPath, arg, notify] = process.argv.slice(3) as [AgentMode, string, string, string];
  await agentChild(mode, payloadPath, arg, notify);
} else {
  await main();
}
