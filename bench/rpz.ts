/**
 * RPZ over DNS at 1M names: (a) a full AXFR from our primary (`serveZone`) against BIND serving the
 * same zone file; (b) how fast a new version reaches a real Unbound and a real BIND by NOTIFY + IXFR
 * from our primary, against the file path (render the RPZ file, reload it), and how long Unbound stops
 * answering meanwhile.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlainState } from '../src/core/plain-state.ts';
import { parseTarget } from '../src/core/target.ts';
import type { FeedEntry } from '../src/core/types.ts';
import { resolveRenderOptions, rpzRecords } from '../src/render/index.ts';
import { missingData, NRD_LIST, readLines, shuffled } from './lib/data.ts';
import { freePort, missingTools } from './lib/resolvers/unbound.ts';
import { formatNumber } from './lib/result.ts';
import { collectGarbage } from './lib/timing.ts';
import { type Agent, type AgentReply, startAgent } from './rpz/agent-process.ts';
import { fullTransfer } from './rpz/full-transfer.ts';
import {
  bindTimeline,
  type ChangeResult,
  type Cleanup,
  change,
  type Resolver,
  type ResolverPorts,
  sleep,
  stallProbe,
  startResolvers,
} from './rpz/propagation.ts';
import {
  GOAL_SPEEDUP,
  GOAL_STALL_MS,
  GOAL_UNBOUND_MS,
  LARGE,
  NAMES,
  rec,
  SMALL,
  STALL_EVERY_MS,
} from './rpz/settings.ts';

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
  firstLoadStallMs: number;
  /** Per BIND change: where its time went, from its log. */
  bindTimelines: string[];
}

/** `TAKEDOWN_BENCH_RPZ=propagation` runs part (b) only (the AXFR comparison takes minutes on a busy machine). */
const ONLY_PROPAGATION = process.env.TAKEDOWN_BENCH_RPZ === 'propagation';
const UNBOUND_WHOLE = 'Unbound, whole IXFRs';
const BIND_NO_FILE = 'BIND, no zone file';
const TRANSFER_LABELS = ['Unbound', UNBOUND_WHOLE, 'BIND', BIND_NO_FILE] as const;
type TransferLabel = (typeof TRANSFER_LABELS)[number];

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
    const ports: ResolverPorts = {
      unboundPrimary: await freePort(),
      unboundNotify: await freePort(),
      unboundWholePrimary: await freePort(),
      unboundWholeNotify: await freePort(),
      bindPrimary: await freePort(),
      bindXfr: await freePort(),
      bindNoFilePrimary: await freePort(),
      bindNoFileXfr: await freePort(),
    };
    // One primary per resolver, so that each resolver's change is measured with the others idle.
    // Only Unbound's gets the default IXFR pieces: each piece costs BIND another O(zone) RPZ rebuild.
    const target = (port: number) => JSON.stringify([{ host: '127.0.0.1', port }]);
    const whole = String(Number.MAX_SAFE_INTEGER);
    const primaries: Record<TransferLabel, Agent> = {
      Unbound: await startAgent(
        'primary',
        payload,
        String(ports.unboundPrimary),
        target(ports.unboundNotify),
      ),
      [UNBOUND_WHOLE]: await startAgent(
        'primary',
        payload,
        String(ports.unboundWholePrimary),
        target(ports.unboundWholeNotify),
        whole,
      ),
      BIND: await startAgent('primary', payload, String(ports.bindPrimary), target(ports.bindXfr), whole),
      [BIND_NO_FILE]: await startAgent(
        'primary',
        payload,
        String(ports.bindNoFilePrimary),
        target(ports.bindNoFileXfr),
        whole,
      ),
    };
    for (const agent of Object.values(primaries)) cleanup.push(agent.stop);
    rec.figure(
      'our primary: load the state + publish the first version',
      primaries.Unbound.loadMs / 1000,
      's wall',
    );

    if (ONLY_PROPAGATION) rec.note('Part (a) skipped: run with TAKEDOWN_BENCH_RPZ=propagation.');
    else {
      console.log('  (a) full transfer');
      await fullTransfer(primaries.Unbound, ports.unboundPrimary, zoneFile, cleanup);
    }

    console.log('  (b) six resolvers loading 1M names each');
    process.setMaxListeners(20);
    const r = await startResolvers(dir, zoneFile, ports, firstName(payload), cleanup);
    r.firstLoadStall.forEach((stall, i) => {
      rec.figure(
        `Unbound by transfer (${i === 0 ? 'pieces' : 'whole IXFRs'}): longest gap between answers during its first load of 1M names`,
        stall.maxGapMs,
        'ms',
        `${stall.answers} answers, ${stall.failures} lost or not NOERROR; it loaded alone`,
      );
    });
    const quiet = stallProbe(r.unboundXfr.port);
    await sleep(3_000);
    const measured: Measured = {
      transfer: [],
      file: [],
      agentMs: { transfer: [], file: [] },
      quietGapMs: (await quiet.stop()).maxGapMs,
      firstLoadStallMs: Math.max(...r.firstLoadStall.map((stall) => stall.maxGapMs)),
      bindTimelines: [],
    };
    const logsBefore = Object.fromEntries(
      TRANSFER_LABELS.map((label) => [label, primaries[label].logs.length]),
    ) as Record<TransferLabel, number>;
    const transferPath: Record<TransferLabel, Resolver> = {
      Unbound: r.unboundXfr,
      [UNBOUND_WHOLE]: r.unboundWhole,
      BIND: r.bindXfr,
      [BIND_NO_FILE]: r.bindNoFile,
    };
    let version = 1;
    for (const adds of [small, large]) {
      version++;
      const names = adds.map(nameOf);
      const results: Record<string, ChangeResult> = {};
      for (const label of TRANSFER_LABELS) {
        const resolver = transferPath[label];
        console.log(`  transfer path, ${label}: version ${version}, ${adds.length} adds`);
        let reply: AgentReply | undefined;
        const logMark = resolver.log?.().length ?? 0;
        results[label] = await change(
          resolver,
          names,
          async () => {
            reply = await primaries[label].publish(version, adds);
          },
          label.startsWith('Unbound'),
        );
        if (resolver.log)
          measured.bindTimelines.push(
            `${label}, ${formatNumber(adds.length)} adds: ${bindTimeline(resolver.log().slice(logMark))}`,
          );
        if (reply) measured.agentMs.transfer.push(agentNote(label, adds.length, reply));
      }
      measured.transfer.push(results);
    }
    const served = TRANSFER_LABELS.flatMap((label) =>
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
            `${path}: ${sizes[i]} adds, longest gap between answers of ${label}`,
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
  for (const [label, fileLabel] of [
    ['Unbound', 'Unbound'],
    ['BIND', 'BIND'],
    [BIND_NO_FILE, 'BIND'],
  ] as const) {
    m.transfer.forEach((results, i) => {
      const fast = results[label]?.ms as number;
      const slow = m.file[i]?.[fileLabel]?.ms as number;
      rec.goal(
        `${label}: ${sizes[i]} adds, transfer vs file path`,
        `>= ${GOAL_SPEEDUP}x faster`,
        `${(slow / fast).toFixed(1)}x (${Math.round(fast)} ms vs ${Math.round(slow)} ms)`,
        slow / fast >= GOAL_SPEEDUP,
      );
    });
  }
  const stallOf = (label: string) =>
    Math.max(...m.transfer.map((results) => results[label]?.stall?.maxGapMs ?? Number.NaN));
  const stall = stallOf('Unbound');
  rec.goal(
    'transfer: no Unbound query stall during either change, in IXFR pieces (longest gap between answers)',
    `<= ${GOAL_STALL_MS} ms`,
    `${Math.round(stall)} ms (whole IXFRs: ${Math.round(stallOf(UNBOUND_WHOLE))} ms)`,
    stall <= GOAL_STALL_MS,
  );
  const fileStall = Math.max(...m.file.map((results) => results.Unbound?.stall?.maxGapMs ?? Number.NaN));
  rec.goal(
    'Unbound: first load of 1M names by transfer stalls queries no longer than its reload of the file',
    '<= file reload stall',
    `${Math.round(m.firstLoadStallMs)} ms vs ${Math.round(fileStall)} ms`,
    m.firstLoadStallMs <= fileStall,
  );
  rec.note(`Where BIND's time went (its own log, named -g): ${m.bindTimelines.join('; ')}.`);
  rec.note(
    `Agent work inside those times (apply the delta to the 1M-entry state + publish it, or + render the file): ` +
      `${[...m.agentMs.transfer, ...m.agentMs.file].join('; ')}.`,
  );
  rec.note(`Transfers our primaries served during the changes: ${served.join('; ')}.`);
  rec.note(
    'Each resolver is measured alone: the transfer path has one primary per resolver (all hold the same ' +
      "state and versions; Unbound's sends IXFR answers of at most 4 096 records, the pieces of a large version " +
      'under serials of their own, the others whole differences); on the file path the agent renders once per version, then each resolver reloads while ' +
      'the other is idle, and its time is the render plus its own reload-to-NXDOMAIN. BIND runs with one worker ' +
      'thread (`named -n 1`, as the test helper starts it).',
  );
}

await main();
