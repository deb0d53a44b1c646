/**
 * An ISP's first `takedown sync --once` of the `dns` feed into an RPZ file, at national scale, without a hub:
 * the bench signs a `takedown publish`-style static mirror (index.json and one snapshot artifact with its
 * log checkpoint) for N entries, serves it from a plain static HTTP server, and runs the agent under GNU
 * time (user + system CPU, peak RSS). Floors measured in the same run: `sha256sum` of the artifact (one
 * native pass over the bytes the agent must hash) and `cp` of the RPZ file it wrote (writing that much).
 *
 * TAKEDOWN_BENCH_ENTRIES: a size or a comma-separated list of sizes (default 1000000).
 * TAKEDOWN_BENCH_PROFILE=DIR: also write a V8 CPU profile of each agent run to DIR.
 * TAKEDOWN_BENCH_BEFORE=PATH: also run the `src/cli/main.ts` at PATH (a checkout of an earlier commit) on the
 * same mirror, for a before/after comparison in the same run; TAKEDOWN_BENCH_BEFORE_LABEL says what it is.
 */

import { spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { encodeArtifact } from '../src/core/artifact.ts';
import { concatBytes } from '../src/core/bytes.ts';
import { signCheckpoint } from '../src/core/checkpoint.ts';
import { exportPublicKey, generateSigningKey } from '../src/core/keys.ts';
import { indexSnapshot } from '../src/core/plain-payload.ts';
import { setHashOfLines } from '../src/core/plain-state.ts';
import { sha256Sync } from '../src/core/sha256.ts';
import { STATIC_FORMAT, staticArtifactName, staticIndexText } from '../src/core/static-layout.ts';
import { CATEGORIES } from '../src/core/types.ts';
import { CLI_MAIN, runNodeMeasured } from './lib/child.ts';
import { type BenchResult, formatNumber, RESULTS_DIR, Recorder } from './lib/result.ts';
import { generatedNames, realNames } from './lib/scale-names.ts';
import { MiB } from './lib/timing.ts';

const SIZES = (process.env.TAKEDOWN_BENCH_ENTRIES ?? '1000000').split(',').map(Number);
const PROFILE_DIR = process.env.TAKEDOWN_BENCH_PROFILE;
const BEFORE_CLI = process.env.TAKEDOWN_BENCH_BEFORE;
const GOAL_SIZE = 10_000_000;
const CPU_GOAL_S = 15;
const RSS_GOAL_MIB = 1024;
/** One entry in this many is a `redirect` (RPZ still blocks it: the bench configures no walled garden). */
const REDIRECT_EVERY = 50;

for (const size of SIZES) {
  if (!Number.isSafeInteger(size) || size < 1000) {
    throw new RangeError(
      `TAKEDOWN_BENCH_ENTRIES ${process.env.TAKEDOWN_BENCH_ENTRIES}: sizes must be >= 1000`,
    );
  }
}

const rec = new Recorder(
  'sync',
  '`takedown sync --once` into an RPZ file at national scale',
  'Per size N: the distinct valid host names of every list in `../shared/data/domains/` (4.07M), then generated ' +
    '`*.takedown-scale-N.com` names to fill up, as `domain` entries (categories in turn, one in ' +
    `${REDIRECT_EVERY} a redirect), signed by the bench as a \`takedown publish\` layout (index.json, one ` +
    'snapshot artifact with its log checkpoint) and served by a plain Node static file server on loopback. ' +
    'The agent (`takedown sync --mirror URL --feed dns --output rpz=FILE --once`, a fresh state directory) ' +
    'runs under GNU `time -v`: CPU = user + system of the agent process, RSS = its peak. "again" is a second ' +
    '`--once` on the same state (the mirror unchanged): loading and checking the saved state. Floors in the ' +
    'same run: `sha256sum` of the artifact and `cp` of the RPZ file the agent wrote.',
);

interface Timed {
  cpu: number;
  /** Of which system time. */
  system: number;
  rss: number;
  stderr: string;
}

/** User + system seconds and peak RSS (MiB) from GNU time -v's report. */
function timedOf(stderr: string, peakRss: number | null): Timed {
  const seconds = (field: string) =>
    Number(new RegExp(`${field} \\(seconds\\): ([\\d.]+)`).exec(stderr)?.[1]);
  return {
    cpu: seconds('User time') + seconds('System time'),
    system: seconds('System time'),
    rss: (peakRss ?? Number.NaN) / MiB,
    stderr,
  };
}

/** A native command under GNU time. */
function timeCommand(command: string, args: string[]): Timed {
  const run = spawnSync('/usr/bin/time', ['-v', command, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${command} failed: ${run.stderr.slice(-1000)}`);
  const kib = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1]);
  return timedOf(run.stderr, kib * 1024);
}

const HOST = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/;

/** N sorted domain expressions: the real lists' valid names first, generated ones to fill up. */
function expressions(count: number): string[] {
  const real = realNames(count).filter((name) => HOST.test(name));
  const names =
    real.length >= count
      ? real.slice(0, count)
      : [...real, ...generatedNames('sync', 0, count - real.length)];
  const out = names.map((name) => `${name}/`);
  out.sort();
  // Dropping duplicates the filter let through twice (none expected: realNames is distinct).
  return out.filter((e, i) => i === 0 || out[i - 1] !== e);
}

/** The snapshot payload of `sorted`, written in slices so no string grows past the engine's limits. */
function snapshotPayload(sorted: readonly string[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let text = '';
  for (let i = 0; i < sorted.length; i++) {
    const category = CATEGORIES[i % CATEGORIES.length] as string;
    const action = i % REDIRECT_EVERY === 0 ? 'redirect' : 'block';
    text += `${sorted[i]}\tdomain\t${category}\t${action}\n`;
    if (text.length >= 1 << 20) {
      parts.push(encoder.encode(text));
      text = '';
    }
  }
  parts.push(encoder.encode(text));
  return concatBytes(parts);
}

/** Signs a `takedown publish` layout of one `dns` snapshot into `site`; returns the public key file. */
async function publishMirror(
  site: string,
  sorted: readonly string[],
): Promise<{ keyFile: string; artifact: string }> {
  const key = await generateSigningKey();
  const payload = snapshotPayload(sorted);
  const starts = indexSnapshot(payload);
  if (!starts.ok) throw new Error(`bench payload invalid: ${starts.error.message}`);
  const checksum = setHashOfLines(payload, starts.value).hex();
  const version = 1;
  const checkpoint = await signCheckpoint(
    { origin: 'takedown', treeSize: 1, root: sha256Sync(new TextEncoder().encode('bench')), version },
    key,
  );
  const now = Date.now();
  const manifest = {
    kind: 'snapshot' as const,
    feed: 'dns',
    from: 0,
    to: version,
    createdAt: now,
    expiresAt: now + 86_400_000,
    entryCount: starts.value.length - 1,
    checksum,
    checkpoint,
  };
  const bytes = await encodeArtifact(manifest, payload, key);
  await mkdir(join(site, 'dns'), { recursive: true });
  const path = `dns/${await staticArtifactName(bytes, manifest)}`;
  writeFileSync(join(site, path), bytes);
  const snapshot = { path, bytes: bytes.length, version };
  const index = {
    format: STATIC_FORMAT as typeof STATIC_FORMAT,
    version,
    feeds: { dns: { version, snapshot, deltas: [] } },
  };
  writeFileSync(join(site, 'index.json'), staticIndexText(index));
  const keyFile = join(site, '..', 'signing.pub');
  writeFileSync(keyFile, `${exportPublicKey(key.publicKey)}\n`);
  return { keyFile, artifact: join(site, path) };
}

/** A plain static file server over `root`, as a CDN or a bucket would be. */
function serveStatic(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    let size: number;
    try {
      if (!path.startsWith(root + sep)) throw new Error('outside');
      size = statSync(path).size;
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    createReadStream(path, { highWaterMark: 1 << 20 }).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function syncOnce(
  mirror: string,
  keyFile: string,
  state: string,
  rpz: string,
  label: string,
  cli = CLI_MAIN,
): Promise<Timed> {
  const profile = PROFILE_DIR
    ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${label}.cpuprofile`]
    : [];
  const args = [
    ...profile,
    cli,
    'sync',
    '--mirror',
    mirror,
    '--feed',
    'dns',
    '--key',
    keyFile,
    '--state',
    state,
    '--output',
    `rpz=${rpz}`,
    '--once',
  ];
  const run = await runNodeMeasured(args);
  if (run.code !== 0)
    throw new Error(`takedown sync --once exited with ${run.code}: ${run.stderr.slice(-3000)}`);
  return timedOf(run.stderr, run.peakRss);
}

/** The last `bytes` bytes of a file as text (the RPZ file of 10M entries is longer than a string may be). */
function tailOf(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const sizeLabel = (n: number) => (n % 1_000_000 === 0 ? `${n / 1_000_000}M` : formatNumber(n));

async function measureSize(size: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'takedown-bench-sync-'));
  let server: Server | undefined;
  try {
    const site = join(dir, 'site');
    console.log(`- ${sizeLabel(size)}: building and signing the mirror`);
    const sorted = expressions(size);
    const { keyFile, artifact } = await publishMirror(site, sorted);
    const entries = sorted.length;
    server = await serveStatic(site);
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const rpz = join(dir, 'rpz.zone');
    const state = join(dir, 'state');
    console.log(`- ${sizeLabel(size)}: takedown sync --once`);
    const first = await syncOnce(mirror, keyFile, state, rpz, `sync-${size}`);
    const again = await syncOnce(mirror, keyFile, state, rpz, `sync-again-${size}`);
    const rpzBytes = statSync(rpz).size;
    const tail = tailOf(rpz, 200);
    if (!/; end: \d+ entries/.test(tail)) throw new Error(`the RPZ file is not complete: ...${tail}`);
    const before = BEFORE_CLI
      ? await syncOnce(
          mirror,
          keyFile,
          join(dir, 'state-before'),
          join(dir, 'rpz-before.zone'),
          `before-${size}`,
          BEFORE_CLI,
        )
      : undefined;
    const sha = timeCommand('sha256sum', [artifact]);
    const cp = timeCommand('cp', [rpz, join(dir, 'rpz.copy')]);
    const at = sizeLabel(size);
    rec.figure(
      `${at}: entries`,
      entries,
      'entries',
      `artifact ${formatNumber(statSync(artifact).size / MiB)} MiB`,
    );
    rec.figure(
      `${at}: sync --once CPU`,
      first.cpu,
      's',
      `user + system (${formatNumber(first.system)} s), GNU time`,
    );
    rec.figure(`${at}: sync --once peak RSS`, first.rss, 'MiB');
    rec.figure(`${at}: RPZ file written`, rpzBytes / MiB, 'MiB');
    rec.figure(`${at}: again, state on disk: CPU`, again.cpu, 's');
    rec.figure(`${at}: again, state on disk: peak RSS`, again.rss, 'MiB');
    if (before) {
      rec.figure(`${at}: before: CPU`, before.cpu, 's', 'see the note on "before"');
      rec.figure(`${at}: before: peak RSS`, before.rss, 'MiB');
    }
    rec.figure(`${at}: floor, sha256sum of the artifact: CPU`, sha.cpu, 's');
    rec.figure(`${at}: floor, cp of the RPZ file: CPU`, cp.cpu, 's');
    if (size === GOAL_SIZE) {
      rec.goal(
        'sync --once at 10M: CPU',
        `< ${CPU_GOAL_S} s`,
        `${formatNumber(first.cpu)} s`,
        first.cpu < CPU_GOAL_S,
      );
      rec.goal(
        'sync --once at 10M: RSS',
        `< ${RSS_GOAL_MIB} MiB`,
        `${formatNumber(first.rss)} MiB`,
        first.rss < RSS_GOAL_MIB,
      );
    }
  } finally {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The figures and goals of sizes this run does not measure, kept from the previous results with the date
 * and load of their run: a 10M run is too heavy to repeat beside every 1M-2M one.
 */
function carryOver(measured: readonly string[]): void {
  let previous: BenchResult;
  try {
    previous = JSON.parse(readFileSync(join(RESULTS_DIR, 'sync.json'), 'utf8')) as BenchResult;
  } catch {
    return;
  }
  const sizeOf = (label: string) => /^(\S+?): /.exec(label)?.[1];
  const kept = previous.figures.filter((f) => {
    const size = sizeOf(f.label);
    return size !== undefined && !measured.includes(size);
  });
  if (kept.length === 0) return;
  const when = `the run of ${previous.date.slice(0, 16).replace('T', ' ')} UTC, load ${previous.machine.loadAtStart}`;
  // A figure carried over before already names its run.
  const carried = (text: string) => text.includes('the run of ');
  for (const f of kept) {
    const note = f.note === undefined ? when : carried(f.note) ? f.note : `${f.note}; ${when}`;
    rec.figure(f.label, f.value, f.unit, note);
  }
  for (const g of previous.goals) {
    const size = /at (\S+):/.exec(g.label)?.[1];
    if (size === undefined || measured.includes(size)) continue;
    rec.goal(g.label, g.target, carried(g.measured) ? g.measured : `${g.measured} (${when})`, g.pass);
  }
}

if (BEFORE_CLI) {
  rec.note(
    `"before": the same \`takedown sync --once\` by ${process.env.TAKEDOWN_BENCH_BEFORE_LABEL ?? 'an earlier checkout'}, on the same mirror in the same run.`,
  );
}
for (const size of SIZES) await measureSize(size);
carryOver(SIZES.map(sizeLabel));
if (!SIZES.includes(GOAL_SIZE)) {
  rec.note(
    `The goal size (${sizeLabel(GOAL_SIZE)}) was not run this time (figures above marked with their own run, if any): TAKEDOWN_BENCH_ENTRIES=${GOAL_SIZE} npm run bench -- sync.`,
  );
}
rec.write();
