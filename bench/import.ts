/**
 * Bulk import of the 1.5M-name NRD list: the registry's import session (chunks of 5000) against a plain
 * better-sqlite3 insert of the same names, both in this run; then `takedown import` end to end with its peak RSS.
 * Then import at scale: filling an empty registry to 1M and to a larger size (TAKEDOWN_BENCH_IMPORT_LARGE,
 * 10M for the goal), and importing 100 000 names into each, in entries per CPU second and bytes written.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseTarget } from '../src/core/target.ts';
import { openRegistry } from '../src/registry/registry.ts';
import { CLI_MAIN, runNodeMeasured } from './lib/child.ts';
import {
  dataPath,
  missingData,
  NRD_LIST,
  PHISHING_DOMAINS,
  REPO_ROOT,
  readLines,
  shownPath,
} from './lib/data.ts';
import { type ImportPass, PASS_SCRIPT, type PassKind, REAL_SHARE } from './lib/import-pass.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { generatedNames } from './lib/scale-names.ts';
import { collectGarbage, MiB, measure, type Timing } from './lib/timing.ts';

const timingNote = (t: Timing) => `${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU`;

const CHUNK = 5000;
const GOAL_RATIO = 3;

const SMALL = 1_000_000;
/** The larger registry the fill and the imports are compared at (10M for the goals; 2M by default, ~1 min). */
const LARGE = Number(process.env.TAKEDOWN_BENCH_IMPORT_LARGE ?? 2_000_000);
const IMPORT_NAMES = 100_000;
/** At LARGE, entries per CPU second stay at least this share of the 1M rate... */
const RATE_GOAL = 0.8;
/** ...and bytes written per entry within this factor of the 1M figure. */
const BYTES_GOAL = 1.1;
/** This benchmark run on the code before the import changes of issue 11, quoted beside today's figures. */
const BASELINE = join(REPO_ROOT, 'bench', 'baselines', `import-${LARGE}.json`);

if (!Number.isSafeInteger(LARGE) || LARGE < 2 * IMPORT_NAMES) {
  throw new RangeError(`TAKEDOWN_BENCH_IMPORT_LARGE ${LARGE} is not an integer >= ${2 * IMPORT_NAMES}`);
}

/** `1M`, `10M`, `250 000`. */
const sizeName = (n: number) => (n % 1e6 === 0 ? `${n / 1e6}M` : formatNumber(n));

const rec = new Recorder(
  'import',
  'Bulk import: 1.5M domains, and at 1M and 10M entries',
  `The ${shownPath(NRD_LIST)} list, read into memory first, then (1) a plain better-sqlite3 baseline: one ` +
    'prepared INSERT per name into `CREATE TABLE t (name TEXT PRIMARY KEY)` in one transaction, (2) the ' +
    `registry's bulk path: \`beginImport\` -> \`session.add\` of ${CHUNK}-name chunks -> \`commit\` (screening, ` +
    'entries, order links, hash-chained change log), each on a fresh file with the same pragmas (WAL, ' +
    'synchronous=FULL, 64 MiB cache); (3) `takedown import FILE --skip-invalid` as a child process, gunzip and ' +
    'parsing included. One round each: a round is 1.5M rows. ' +
    `Then at scale, for ${sizeName(SMALL)} and ${sizeName(LARGE)} entries in the same run: the fill of an empty ` +
    `registry as one import, ${REAL_SHARE * 100} % real names (the distinct names of \`../shared/data/domains/\`) ` +
    'and generated `fill*.takedown-scale-N.com` names at both sizes (the same length mix), then three imports of ' +
    `${formatNumber(IMPORT_NAMES)} names into it, no hub running: generated \`import-*\` names as the scale ` +
    "benchmark's `takedown import` uses (they sort into one run of the key order), the same kind through " +
    '`takedown import` as a child process (start-up and file reading included), and names spread evenly over ' +
    "the key order (a sample of the registry's own names with `-i` after the first label: every chunk lands on " +
    'different pages). Each import runs in a process of its own and opens the registry, writes, commits and ' +
    'closes it (the close checkpoints the ' +
    'WAL). Rates are entries per CPU second of the importing process (the cores are shared; wall-clock rates ' +
    'in the notes); bytes written per entry are what it passed to write() (Linux `/proc/self/io` wchar: the ' +
    'database, the WAL, the checkpoint, temporary files). `TAKEDOWN_BENCH_IMPORT_LARGE=10000000` runs the goal ' +
    'size.',
);

const baselineFigures: Map<string, number> = existsSync(BASELINE)
  ? new Map(
      (
        JSON.parse(readFileSync(BASELINE, 'utf8')) as { figures: { label: string; value: number }[] }
      ).figures.map((f) => [f.label, f.value]),
    )
  : new Map();
if (baselineFigures.size > 0)
  rec.note(
    `"before" figures: this benchmark on the code before issue 11's import changes (statement journals in a ` +
      `temporary file), same machine, kept in bench/baselines/import-${LARGE}.json.`,
  );

/** A figure, with the same figure of the baseline run when there is one. */
function figure(label: string, value: number, unit: string, note?: string): number {
  const before = baselineFigures.get(label);
  const was = before === undefined ? undefined : `before: ${formatNumber(before)} ${unit}`;
  return rec.figure(label, value, unit, [was, note].filter(Boolean).join('; ') || undefined);
}

/** Database file size after close (closing checkpoints the WAL into the main file). */
const fileBytes = (path: string) => statSync(path).size;

async function baseline(names: readonly string[], path: string): Promise<Timing> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`cache_size = ${-64 * 1024}`);
  db.exec('CREATE TABLE t (name TEXT PRIMARY KEY)');
  const insert = db.prepare('INSERT OR IGNORE INTO t (name) VALUES (?)');
  const time = await measure(() =>
    db.transaction(() => {
      for (const name of names) insert.run(name);
    })(),
  );
  db.close();
  return time;
}

async function registryImport(names: readonly string[], path: string) {
  const registry = openRegistry(path, { protectedDomainsFile: null });
  const begun = registry.beginImport(
    { reference: 'BENCH/1', authority: 'bench', category: 'other' },
    'bench',
  );
  if (!begun.ok) throw new Error(begun.error.message);
  const session = begun.value;
  let rejected = 0;
  let added = 0;
  const time = await measure(() => {
    for (let i = 0; i < names.length; i += CHUNK)
      rejected += session.add(names.slice(i, i + CHUNK)).rejected.length;
    added = session.commit().totals.added;
  });
  registry.close();
  return { time, added, rejected };
}

/** `takedown import FILE` as a child process; CPU seconds from GNU time when it is installed. */
async function cliImport(file: string, data: string) {
  const args = [
    'import',
    file,
    '--data',
    data,
    '--reference',
    'BENCH/CLI',
    '--authority',
    'bench',
    '--category',
    'other',
  ];
  const run = await runNodeMeasured([CLI_MAIN, ...args, '--skip-invalid']);
  if (run.code !== 0) throw new Error(`takedown import exited with ${run.code}:\n${run.stderr.slice(-2000)}`);
  const seconds = (label: string) =>
    Number(new RegExp(`${label} time \\(seconds\\): ([\\d.]+)`).exec(run.stderr)?.[1]);
  return {
    ...run,
    added: Number(/: (\d+) added/.exec(run.stdout)?.[1] ?? Number.NaN),
    cpu: seconds('User') + seconds('System'),
  };
}

async function nrdList(dir: string) {
  const names = readLines(NRD_LIST);
  figure('names in the list', names.length, 'lines');

  const basePath = join(dir, 'baseline.db');
  const base = await baseline(names, basePath);
  figure('baseline: plain prepared INSERT', names.length / base.wall, 'names/s', timingNote(base));
  figure(
    'baseline database size',
    fileBytes(basePath) / names.length,
    'bytes/name',
    `${(fileBytes(basePath) / MiB).toFixed(0)} MiB`,
  );
  collectGarbage();

  const regPath = join(dir, 'registry.db');
  const reg = await registryImport(names, regPath);
  figure(
    'registry bulk import',
    reg.added / reg.time.wall,
    'entries/s',
    `${timingNote(reg.time)}; ${reg.added} added, ${reg.rejected} refused`,
  );
  figure(
    'registry database size',
    fileBytes(regPath) / reg.added,
    'bytes/entry',
    `${(fileBytes(regPath) / MiB).toFixed(0)} MiB`,
  );
  const parse = await measure(() => {
    for (const name of names) parseTarget(name);
  });
  figure(
    'of which target parsing (`parseTarget` alone)',
    parse.cpu / reg.time.cpu,
    'share of CPU',
    timingNote(parse),
  );
  const ratio = reg.time.cpu / base.cpu;
  figure(
    'registry / baseline, CPU time',
    ratio,
    'x',
    `${(reg.time.wall / base.wall).toFixed(2)}x by wall clock`,
  );
  rec.goal(
    'bulk import within 3x of the plain insert (CPU time)',
    `<= ${GOAL_RATIO}x`,
    `${ratio.toFixed(2)}x`,
    ratio <= GOAL_RATIO,
  );
  rmSync(basePath, { force: true });
  rmSync(regPath, { force: true });

  const run = await cliImport(dataPath(NRD_LIST) as string, join(dir, 'cli'));
  figure(
    '`takedown import` end to end',
    run.added / run.seconds,
    'entries/s',
    `${run.seconds.toFixed(1)} s wall, process start and gunzip included`,
  );
  if (run.peakRss !== null) {
    figure('`takedown import` peak RSS, 1.5M names', run.peakRss / MiB, 'MiB', run.peakRssSource);
    // The same command on a list ten times shorter shows whether memory grows with the list.
    const small = dataPath(PHISHING_DOMAINS)
      ? await cliImport(dataPath(PHISHING_DOMAINS) as string, join(dir, 'cli-small'))
      : null;
    if (small?.peakRss) {
      figure(
        `\`takedown import\` peak RSS, ${formatNumber(small.added)} names`,
        small.peakRss / MiB,
        'MiB',
        `${shownPath(PHISHING_DOMAINS)}`,
      );
      rec.note(
        `Peak RSS grows from ${formatNumber(small.peakRss / MiB)} MiB to ${formatNumber(run.peakRss / MiB)} MiB for ` +
          `${formatNumber(run.added / small.added)}x the names: the CLI streams the file in ${CHUNK}-line chunks, so ` +
          'memory is the runtime, the SQLite page cache (64 MiB) and per-import bookkeeping, not the list.',
      );
    }
  }
}

/** One import in a process of its own (bench/lib/import-pass.ts). */
async function importPass(dbPath: string, kind: PassKind, size: number): Promise<ImportPass> {
  const run = await runNodeMeasured([PASS_SCRIPT, dbPath, kind, String(size), String(IMPORT_NAMES)]);
  if (run.code !== 0) throw new Error(`${kind} pass exited with ${run.code}:\n${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as ImportPass;
}

type Kind = 'fill' | 'import' | 'cli' | 'spread';

const NAMED: Record<Kind, string> = {
  fill: 'fill of an empty registry',
  import: `import of ${formatNumber(IMPORT_NAMES)} generated names`,
  cli: `\`takedown import\` of ${formatNumber(IMPORT_NAMES)} generated names, no hub`,
  spread: `import of ${formatNumber(IMPORT_NAMES)} names spread over the key order`,
};

const labelOf = (kind: Kind, size: number) =>
  `${NAMED[kind]}${kind === 'cli' ? ',' : ''} ${kind === 'fill' ? 'to' : 'into'} ${sizeName(size)}`;

const rateNote = (p: ImportPass) =>
  `${formatNumber(p.added / p.wall)} entries/s wall; ${p.wall.toFixed(1)} s wall, ` +
  `${p.cpu.toFixed(1)} CPU-s, load ${p.load.toFixed(1)}`;

/** Records a pass as entries per CPU second and bytes written per entry; returns both. */
function recordPass(kind: Kind, size: number, p: ImportPass): { rate: number; bytes: number } {
  const label = labelOf(kind, size);
  const rate = figure(`${label}: entries per CPU second`, p.added / p.cpu, 'entries/s', rateNote(p));
  const bytes = figure(`${label}: bytes written per entry`, p.bytes / p.added, 'bytes');
  return { rate, bytes };
}

/** Fills a registry to `size` and imports into it; the registry is deleted afterwards. */
async function atScale(dir: string, size: number) {
  const data = join(dir, `scale-${size}`);
  const dbPath = join(data, 'takedown.db');
  try {
    const fill = recordPass('fill', size, await importPass(dbPath, 'fill', size));
    const imported = recordPass('import', size, await importPass(dbPath, 'import', size));
    const list = join(dir, 'cli.txt');
    writeFileSync(list, `${generatedNames('cli-', 0, IMPORT_NAMES).join('\n')}\n`);
    const load = loadavg()[0] ?? 0;
    const cli = await cliImport(list, data);
    const cliLabel = labelOf('cli', size);
    const cliRate = figure(
      `${cliLabel}: entries per CPU second`,
      cli.added / cli.cpu,
      'entries/s',
      `${formatNumber(cli.added / cli.seconds)} entries/s wall; ${cli.seconds.toFixed(1)} s wall, ` +
        `${cli.cpu.toFixed(1)} CPU-s (GNU time), load ${load.toFixed(1)}`,
    );
    const spread = recordPass('spread', size, await importPass(dbPath, 'spread', size));
    figure(
      `registry file at ${sizeName(size)}, per entry`,
      statSync(dbPath).size / (size + 3 * IMPORT_NAMES),
      'bytes',
    );
    return { fill, import: imported, cli: cliRate, spread };
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

function compare(label: string, small: number, large: number, goal: 'rate' | 'bytes', binding: boolean) {
  const [s, l] = [sizeName(SMALL), sizeName(LARGE)];
  if (goal === 'rate') {
    const share = large / small;
    const target = `>= ${RATE_GOAL * 100} % of ${s}`;
    const measured = `${(share * 100).toFixed(0)} %`;
    if (binding) rec.goal(`${label}: entries per CPU second at ${l}`, target, measured, share >= RATE_GOAL);
    else figure(`${label}: entries per CPU second at ${l}, share of ${s}`, share * 100, '%');
  } else {
    const factor = large / small;
    const target = `<= ${BYTES_GOAL}x ${s}`;
    if (binding)
      rec.goal(
        `${label}: bytes written per entry at ${l}`,
        target,
        `${factor.toFixed(2)}x`,
        factor <= BYTES_GOAL,
      );
    else figure(`${label}: bytes written per entry at ${l}, factor of ${s}`, factor, 'x');
  }
}

async function scale(dir: string) {
  const small = await atScale(dir, SMALL);
  const started = performance.now();
  const large = await atScale(dir, LARGE);
  rec.note(
    `The ${sizeName(LARGE)} part (names, fill, three imports, the spread sample) took ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s wall.`,
  );
  compare(NAMED.fill, small.fill.rate, large.fill.rate, 'rate', true);
  compare(NAMED.fill, small.fill.bytes, large.fill.bytes, 'bytes', true);
  compare(NAMED.import, small.import.rate, large.import.rate, 'rate', true);
  compare(NAMED.import, small.import.bytes, large.import.bytes, 'bytes', true);
  compare(NAMED.cli, small.cli, large.cli, 'rate', true);
  compare(NAMED.spread, small.spread.rate, large.spread.rate, 'rate', false);
  compare(NAMED.spread, small.spread.bytes, large.spread.bytes, 'bytes', false);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'takedown-bench-import-'));
  try {
    const missing = missingData(NRD_LIST);
    if (missing) rec.note(`The 1.5M-name part was skipped: ${missing}`);
    else await nrdList(dir);
    await scale(dir);
    return rec.write();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
