/**
 * The edge worker inside workerd: URL checks per second against a 1M-entry `filter` snapshot versus parsing
 * alone, memory and load+verify time of the state, and Ghostery's adblocker with the same domains as a peer.
 */

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeArtifact } from '../src/core/artifact.ts';
import { DEFAULT_BLOOM_FPR } from '../src/core/confirm.ts';
import { encodeFilterSnapshot } from '../src/core/filter-payload.ts';
import { exportPublicKey, generateSigningKey, type SigningKey } from '../src/core/keys.ts';
import { bundleEdge, type EdgeRuntime, startEdgeRuntime } from '../workers/tools/runtime.ts';
import { cpuSecondsOf } from './lib/child.ts';
import { missingData, NRD_LIST, PHISHING_DOMAINS, PHISHING_URLS, readLines, shownPath } from './lib/data.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { generatedNames, realNames } from './lib/scale-names.ts';
import { MiB, median } from './lib/timing.ts';

const ENTRIES = 1_000_000;
const FPR = DEFAULT_BLOOM_FPR;
const ROUNDS = 7;
const GHOSTERY_ROUNDS = 3;
const LOADS = 5;
const GOALS = { ratio: 3, memoryMiB: 32, loadMs: 300, scaleMemoryMiB: 64, scaleLoadMs: 1000 };
/** The national-scale state: the real domain lists, then generated names up to the count. */
const SCALE_ENTRIES = Number(process.env.TAKEDOWN_BENCH_EDGE_SCALE ?? 10_000_000);
const SCALE_LOADS = 3;

const rec = new Recorder(
  'edge',
  'Edge worker in workerd: checks, memory, load',
  `A ${formatNumber(ENTRIES)}-entry filter snapshot (configured Bloom rate f0 = 1/${1 / FPR}) of \`domain/\` expressions: the ` +
    `${shownPath(PHISHING_DOMAINS)} names, then ${shownPath(NRD_LIST)} names up to the count, signed with a fresh ` +
    'Ed25519 key. A bench worker (bench/edge-worker.ts, bundled by `wrangler deploy --dry-run` with ' +
    "wrangler.toml's flags, run by Miniflare) holds every URL of " +
    `${shownPath(PHISHING_URLS)} and runs passes over them after a warm-up pass, each timed as CPU time of ` +
    "the workerd process over the request (/proc, 10 ms ticks; goals are judged on it) and by the isolate's clock: " +
    `the edge's check (\`verdictOf\`: canonicalizeUrl, then \`FilterState.isUrlBlocked\`: the lookup ` +
    'expressions as ranges of the canonical URL, Bloom filter and confirmation) and ' +
    `\`new URL()\` alone, ${ROUNDS} rounds interleaved; @ghostery/adblocker 2.18.2's \`match\` on a ` +
    `\`main_frame\` request with the same domains as \`||domain^\` filters, ${GHOSTERY_ROUNDS} rounds; the ` +
    `median pass counts. Load+verify: \`FeedConsumer.apply\` of the artifact, median of ${LOADS}, timed alike. ` +
    'Memory: V8 heap used plus array-buffer backing stores of the isolate (DevTools `Runtime.getHeapUsage` ' +
    'after a forced GC), with the state or engine held minus without it. ' +
    `At ${formatNumber(SCALE_ENTRIES)} entries: every distinct name of the lists under ../shared/data/domains/ (in ` +
    'file order), then generated names (`e<i>.takedown-scale-<i mod 4099>.com`, bench/lib/scale-names.ts) up to ' +
    'the count, as `domain/` expressions. The bench worker drops every state, receives the artifact (one buffer, ' +
    "as a bucket read hands it over), then verifies and loads it while the bench reads the isolate's heap usage " +
    '(no GC: garbage counts) as often as the inspector answers; the peak while loading is the largest of those ' +
    'readings, of the isolate holding the bytes before and of the state after, minus the empty isolate. The held ' +
    `state is measured as above; load+verify is the median CPU time of ${SCALE_LOADS} such loads, each into an ` +
    'empty isolate.',
);

/** How long one exchange with the inspector may take; a forced GC of the 1M-entry state takes under a second. */
const INSPECTOR_DEADLINE_MS = 60_000;

/** `promise`, or an error naming `what` after `ms`: a silent inspector fails the bench rather than hanging it. */
async function within<T>(what: string, promise: Promise<T>, ms = INSPECTOR_DEADLINE_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`inspector: ${what} gave no answer within ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The DevTools session of the worker's isolate. workerd runs some methods (`HeapProfiler.collectGarbage`) only
 * while the isolate serves a request, and on a busy machine the message can reach workerd after the request sent
 * to let it run has ended: the answer then waits for a next request, so `call` sends requests until it comes.
 */
class Inspector {
  #id = 0;
  readonly #pending = new Map<number, (result: Record<string, number>) => void>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly runtime: EdgeRuntime,
  ) {
    ws.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, number> };
      if (message.id !== undefined) this.#pending.get(message.id)?.(message.result ?? {});
    });
  }

  static async open(runtime: EdgeRuntime): Promise<Inspector> {
    const url = await within('Miniflare.getInspectorURL()', runtime.mf.getInspectorURL());
    const list = new URL('/json', url.href.replace(/^ws/, 'http'));
    const targets = (await within(
      `GET ${list}`,
      fetch(list, { signal: AbortSignal.timeout(INSPECTOR_DEADLINE_MS) }).then((r) => r.json()),
    )) as { webSocketDebuggerUrl: string }[];
    const user = targets.find((t) => t.webSocketDebuggerUrl.endsWith('/core:user:'));
    if (!user) throw new Error(`inspector: no target for the user worker in ${JSON.stringify(targets)}`);
    const ws = new WebSocket(user.webSocketDebuggerUrl);
    try {
      await within(
        `WebSocket ${user.webSocketDebuggerUrl}`,
        new Promise((resolve, reject) => {
          ws.addEventListener('open', resolve);
          ws.addEventListener('error', () => reject(new Error(`inspector: WebSocket ${ws.url} failed`)));
          ws.addEventListener('close', (e) => reject(new Error(`inspector: WebSocket closed (${e.code})`)));
        }),
      );
    } catch (error) {
      ws.close();
      throw error;
    }
    return new Inspector(ws, runtime);
  }

  call(method: string): Promise<Record<string, number>> {
    const id = ++this.#id;
    let answered = false;
    const result = new Promise<Record<string, number>>((resolve) =>
      this.#pending.set(id, (value) => {
        answered = true;
        resolve(value);
      }),
    );
    this.ws.send(JSON.stringify({ id, method }));
    const nudge = async () => {
      while (!answered) {
        await (await this.runtime.fetch('http://bench/noop')).arrayBuffer();
        if (!answered) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    return within(
      method,
      Promise.all([result, nudge()]).then(([value]) => value),
    ).finally(() => {
      answered = true;
      this.#pending.delete(id);
    });
  }

  /** Heap used plus array-buffer backing stores after a full collection, in bytes. */
  async memory(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const usage = await this.call('Runtime.getHeapUsage');
    return (usage.usedSize ?? 0) + (usage.backingStorageSize ?? 0);
  }

  close(): void {
    this.ws.close();
  }
}

/** The workerd process Miniflare started (a child of this one): the isolate's clock is wall time, not CPU time. */
function workerdPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && stat.includes('(workerd)')) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  throw new Error(`no workerd process among the children of ${process.pid}`);
}

async function post(runtime: EdgeRuntime, path: string, body: string | Uint8Array) {
  const r = await runtime.fetch(`http://bench${path}`, { method: 'POST', body: body as BodyInit });
  const value = (await r.json()) as Record<string, number>;
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(value)}`);
  return value;
}

interface Pass {
  ms: number;
  checks: number;
  hits: number;
  /** workerd's CPU time over the request. */
  cpuMs: number;
}

function cpuMsOf(pid: number): number {
  const seconds = cpuSecondsOf(pid);
  if (seconds === null) throw new Error(`cannot read the CPU time of workerd (${pid})`);
  return seconds * 1000;
}

async function pass(runtime: EdgeRuntime, workerd: number, mode: string): Promise<Pass> {
  const before = cpuMsOf(workerd);
  const timed = (await (await runtime.fetch(`http://bench/run?mode=${mode}&rounds=1`)).json()) as Pass;
  return { ...timed, cpuMs: cpuMsOf(workerd) - before };
}

/**
 * Median passes of each mode, interleaved (a, b, a, b...) so a noisy neighbour on the shared cores slows
 * every mode alike, after one warm-up pass each (the JIT); per second of the isolate's clock and of CPU.
 */
async function passes(runtime: EdgeRuntime, workerd: number, modes: readonly string[], rounds: number) {
  const runs = new Map<string, Pass[]>(modes.map((m) => [m, []]));
  for (const mode of modes) await pass(runtime, workerd, mode);
  for (let i = 0; i < rounds; i++)
    for (const mode of modes) runs.get(mode)?.push(await pass(runtime, workerd, mode));
  return Object.fromEntries(
    modes.map((mode) => {
      const list = runs.get(mode) ?? [];
      const checks = list[0]?.checks ?? 0;
      const rate = (ms: number) => (checks / ms) * 1000;
      return [
        mode,
        {
          perSecond: rate(median(list.map((r) => r.ms))),
          perCpuSecond: rate(median(list.map((r) => r.cpuMs))),
          hits: list[0]?.hits ?? 0,
        },
      ];
    }),
  ) as Record<string, { perSecond: number; perCpuSecond: number; hits: number }>;
}

/** A signed snapshot artifact of `domain/` entries for `names`. */
async function snapshotArtifact(names: readonly string[], key: SigningKey) {
  const snapshot = await encodeFilterSnapshot(
    names.map((d) => `${d}/`),
    { fpr: FPR },
  );
  const now = Date.now();
  const artifact = await encodeArtifact(
    {
      kind: 'snapshot',
      feed: 'filter',
      from: 0,
      to: 1,
      createdAt: now,
      expiresAt: now + 86_400_000,
      entryCount: snapshot.entryCount,
      checksum: snapshot.checksum,
    },
    snapshot.payload,
    key,
  );
  return { artifact, entryCount: snapshot.entryCount, bits: snapshot.bits };
}

/**
 * The state at national scale: peak isolate memory while it loads (heap usage read as often as the inspector
 * answers, garbage included), the state it holds afterwards, and the CPU time of load+verify.
 */
async function scaleSection(runtime: EdgeRuntime, inspector: Inspector, workerd: number, key: SigningKey) {
  const real = realNames(SCALE_ENTRIES);
  const names = [...real, ...generatedNames('e', 0, SCALE_ENTRIES - real.length)];
  const { artifact, entryCount, bits } = await snapshotArtifact(names, key);
  names.length = 0;
  rec.figure(
    `${formatNumber(SCALE_ENTRIES)}: snapshot artifact`,
    artifact.length / MiB,
    'MiB',
    `${formatNumber(entryCount)} entries (${formatNumber(real.length)} real names); root keys of ${bits.root} bits`,
  );
  const keyText = encodeURIComponent(exportPublicKey(key.publicKey));
  const loadCpu: number[] = [];
  const loads: number[] = [];
  let empty = 0;
  let staged = 0;
  let peak = 0;
  let readings = 0;
  for (let i = 0; i < SCALE_LOADS; i++) {
    await post(runtime, '/drop?what=state', '');
    if (i === 0) empty = await inspector.memory();
    await post(runtime, '/stage', artifact);
    if (i === 0) staged = await inspector.memory();
    let loading = i === 0;
    const sampler = (async () => {
      while (loading) {
        const usage = await inspector.call('Runtime.getHeapUsage');
        peak = Math.max(peak, (usage.usedSize ?? 0) + (usage.backingStorageSize ?? 0));
        readings++;
      }
    })();
    const before = cpuMsOf(workerd);
    try {
      loads.push((await post(runtime, `/load?key=${keyText}&staged=1`, '')).ms as number);
    } finally {
      loading = false;
    }
    loadCpu.push(cpuMsOf(workerd) - before);
    await sampler;
  }
  const held = (await inspector.memory()) - empty;
  const peakBytes = Math.max(peak, staged, held + empty) - empty;
  const { check } = await passes(runtime, workerd, ['check'], 3);
  if (!check) throw new Error('no timing for check at scale');
  await post(runtime, '/drop?what=state', '');
  const load = rec.figure(
    `${formatNumber(SCALE_ENTRIES)}: load + verify`,
    median(loadCpu),
    'ms',
    `CPU time; ${median(loads).toFixed(0)} ms by the isolate's clock; first ${loadCpu[0]?.toFixed(0)} ms`,
  );
  rec.figure(`${formatNumber(SCALE_ENTRIES)}: loaded state`, held / MiB, 'MiB');
  rec.figure(
    `${formatNumber(SCALE_ENTRIES)}: peak while loading`,
    peakBytes / MiB,
    'MiB',
    `the artifact's bytes (${((staged - empty) / MiB).toFixed(1)} MiB held before the load) included; max of ` +
      `${readings} heap readings (garbage included) during the load, the bytes before it and the state after it`,
  );
  rec.figure(
    `${formatNumber(SCALE_ENTRIES)}: check (canonicalize + expressions + filter)`,
    check.perCpuSecond,
    'URLs/s',
    `${formatNumber(check.perSecond)} by the isolate's clock; ${check.hits} blocked`,
  );
  return { load, held, peakBytes };
}

async function main(): Promise<void> {
  const missing = missingData(PHISHING_URLS, PHISHING_DOMAINS, NRD_LIST);
  if (missing) {
    rec.skip(missing);
    return;
  }
  const names = new Set(readLines(PHISHING_DOMAINS).map((d) => d.trim().toLowerCase()));
  for (const name of readLines(NRD_LIST)) {
    if (names.size >= ENTRIES) break;
    names.add(name);
  }
  const domains = [...names];
  const urls = readLines(PHISHING_URLS);
  const key = await generateSigningKey();
  const snapshot = await snapshotArtifact(domains, key);
  const { artifact } = snapshot;
  rec.figure(
    'snapshot artifact',
    artifact.length / MiB,
    'MiB',
    `${formatNumber(snapshot.entryCount)} entries`,
  );

  const dir = await mkdtemp(join(tmpdir(), 'takedown-bench-edge-'));
  const entry = fileURLToPath(new URL('./edge-worker.ts', import.meta.url));
  const { script } = await bundleEdge(dir, entry);
  const runtime = await startEdgeRuntime(script, {}, { inspector: true });
  let inspector: Inspector | undefined;
  try {
    inspector = await Inspector.open(runtime);
    await post(runtime, '/urls', urls.join('\n'));
    const keyText = encodeURIComponent(exportPublicKey(key.publicKey));
    const empty = await inspector.memory();
    const workerd = workerdPid();
    const loads: number[] = [];
    const loadCpu: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const before = cpuMsOf(workerd);
      loads.push((await post(runtime, `/load?key=${keyText}`, artifact)).ms as number);
      loadCpu.push(cpuMsOf(workerd) - before);
    }
    const stateBytes = (await inspector.memory()) - empty;
    const load = rec.figure(
      'load + verify',
      median(loadCpu),
      'ms',
      `CPU time; ${median(loads).toFixed(0)} ms by the isolate's clock; first ${loadCpu[0]?.toFixed(0)} ms`,
    );
    rec.figure('loaded state', stateBytes / MiB, 'MiB');

    const { check, parse } = await passes(runtime, workerd, ['check', 'parse'], ROUNDS);
    if (!check || !parse) throw new Error('no timing for check or parse');
    const ratio = parse.perCpuSecond / check.perCpuSecond;
    const wall = (rate: number) => `${formatNumber(rate)} by the isolate's clock`;
    rec.figure(
      'check (canonicalize + expressions + filter)',
      check.perCpuSecond,
      'URLs/s',
      `${wall(check.perSecond)}; ${check.hits} blocked`,
    );
    rec.figure('baseline: new URL() alone', parse.perCpuSecond, 'URLs/s', wall(parse.perSecond));
    rec.figure(
      'check time / parse time',
      ratio,
      'x',
      `${(parse.perSecond / check.perSecond).toFixed(2)}x by the isolate's clock`,
    );

    await post(runtime, '/drop?what=state', '');
    const beforeEngine = await inspector.memory();
    const buildStart = cpuMsOf(workerd);
    const built = await post(runtime, '/ghostery', domains.map((d) => `||${d}^`).join('\n'));
    const buildCpu = cpuMsOf(workerd) - buildStart;
    const engineBytes = (await inspector.memory()) - beforeEngine;
    const { ghostery } = await passes(runtime, workerd, ['ghostery'], GHOSTERY_ROUNDS);
    if (!ghostery) throw new Error('no timing for Ghostery');
    rec.figure(
      'Ghostery: build engine',
      buildCpu,
      'ms',
      `CPU time, serializing it included; ${(built.ms as number).toFixed(0)} ms by the isolate's clock without`,
    );
    rec.figure(
      'Ghostery: match',
      ghostery.perCpuSecond,
      'URLs/s',
      `${wall(ghostery.perSecond)}; ${ghostery.hits} blocked`,
    );
    rec.figure('Ghostery: engine in memory', engineBytes / MiB, 'MiB');
    rec.figure('Ghostery: serialized engine', (built.serializedBytes as number) / MiB, 'MiB');

    const scale = await scaleSection(runtime, inspector, workerd, key);

    rec.goal('check vs parse (CPU time)', `<= ${GOALS.ratio}x`, `${ratio.toFixed(2)}x`, ratio <= GOALS.ratio);
    rec.goal(
      '1M-entry state in memory',
      `< ${GOALS.memoryMiB} MiB`,
      `${(stateBytes / MiB).toFixed(1)} MiB`,
      stateBytes < GOALS.memoryMiB * MiB,
    );
    rec.goal(
      'load + verify (CPU time)',
      `< ${GOALS.loadMs} ms`,
      `${load.toFixed(0)} ms`,
      load < GOALS.loadMs,
    );
    const scaleLabel = `${formatNumber(SCALE_ENTRIES)}-entry state`;
    rec.goal(
      `${scaleLabel}, peak while loading`,
      `< ${GOALS.scaleMemoryMiB} MiB`,
      `${(scale.peakBytes / MiB).toFixed(1)} MiB (held ${(scale.held / MiB).toFixed(1)} MiB)`,
      scale.peakBytes < GOALS.scaleMemoryMiB * MiB,
    );
    rec.goal(
      `${scaleLabel}, load + verify (CPU time)`,
      `< ${GOALS.scaleLoadMs} ms`,
      `${scale.load.toFixed(0)} ms`,
      scale.load < GOALS.scaleLoadMs,
    );
    rec.note(
      `URLs: ${formatNumber(urls.length)}; blocked by the filter ${formatNumber(check.hits)}, by Ghostery ` +
        `${formatNumber(ghostery.hits)}. Most of the difference: the domain list holds bare public suffixes ` +
        '(private PSL entries such as `plesk.page`, `cf-ipfs.com`), which Ghostery applies to every name under ' +
        'them while Safe Browsing lookups never generate a bare public suffix (and the hub refuses one as a target).',
    );
    rec.write();
  } finally {
    inspector?.close();
    await runtime.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

// workerd's inspector is reached over WebSocket, a flag away in Node 20: run again with it.
if (typeof WebSocket === 'undefined') {
  const child = spawn(
    process.execPath,
    ['--experimental-websocket', ...process.execArgv, fileURLToPath(import.meta.url)],
    { stdio: 'inherit' },
  );
  process.exitCode = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
} else {
  await main();
}
