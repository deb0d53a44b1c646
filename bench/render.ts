/**
 * Rendering the agent's 1M-entry state in every output format: seconds, MB/s, file size and peak RSS,
 * each format in its own process (so each peak is its own), against a plain write stream of the same
 * names one per line in the same run.
 */

import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderToFile } from '../src/agent/render-to-file.ts';
import { PlainState } from '../src/core/plain-state.ts';
import { parseTarget } from '../src/core/target.ts';
import type { FeedEntry } from '../src/core/types.ts';
import { OUTPUT_FORMATS, type OutputFormat, resolveRenderOptions } from '../src/render/index.ts';
import { runNodeMeasured } from './lib/child.ts';
import { missingData, NRD_LIST, PHISHING_URLS, readLines, shownPath } from './lib/data.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { collectGarbage, cpuNow, MiB } from './lib/timing.ts';

const DOMAINS = 1_000_000;
const URLS = 20_000;
/** A render may add at most this share of its file size to the process: a whole-zone string adds >= 100 %. */
const GOAL_ADDED_SHARE = 0.5;
const BASELINE = 'baseline';
const MB = 1e6;

const rec = new Recorder(
  'render',
  'Rendering a 1M-entry state per output format',
  `The agent's state as a \`PlainState\` snapshot payload: the first ${formatNumber(DOMAINS)} names of ` +
    `${shownPath(NRD_LIST)} as \`domain\` entries plus the first ${formatNumber(URLS)} \`url\` entries that ` +
    `\`parseTarget\` makes of ${shownPath(PHISHING_URLS)} (only squid-url renders those; the other formats ` +
    'ignore them). Per format, one child process loads the payload (`PlainState.fromSnapshot`), runs a full GC, ' +
    'resets its peak-RSS mark (`/proc/self/clear_refs`) and renders with `renderToFile` (atomic: temporary ' +
    'file, fsync, rename); time and CPU are of the render alone. Baseline, in the same run and the same way: ' +
    'the domain names one per line through a plain `fs.createWriteStream` (16 KiB writes, back-pressure ' +
    'honoured, no fsync). One round each.',
);

/** What a child reports on its last stdout line. */
interface ChildReport {
  seconds: number;
  cpu: number;
  bytes: number;
  rendered: number;
  /** RSS once the state is loaded, before rendering. */
  rssBefore: number;
  /** VmHWM after rendering; counted from the reset when `reset` is true, else the whole process's. */
  renderPeak: number;
  reset: boolean;
}

function statusKiB(field: string): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** Resets VmHWM to the current RSS (Linux >= 4.0), so the next peak read is that of what follows. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The names one per line through a write stream: the floor of producing a file from the state. */
async function writeNames(path: string, state: PlainState): Promise<{ bytes: number; rendered: number }> {
  const stream = createWriteStream(path);
  let piece = '';
  let bytes = 0;
  let rendered = 0;
  for (const entry of state.entries()) {
    if (entry.kind !== 'domain') continue;
    piece += `${entry.expression.slice(0, -1)}\n`;
    rendered++;
    if (piece.length >= 16 * 1024) {
      bytes += piece.length;
      if (!stream.write(piece)) await once(stream, 'drain');
      piece = '';
    }
  }
  bytes += piece.length;
  stream.end(piece);
  await once(stream, 'finish');
  return { bytes, rendered };
}

async function child(
  format: OutputFormat | typeof BASELINE,
  payloadPath: string,
  out: string,
): Promise<void> {
  const loaded = PlainState.fromSnapshot(readFileSync(payloadPath));
  if (!loaded.ok) throw new Error(`payload: ${loaded.error.message}`);
  const state = loaded.value;
  collectGarbage();
  const rssBefore = statusKiB('VmRSS');
  const reset = resetPeak();
  const cpu = cpuNow();
  const start = performance.now();
  const done =
    format === BASELINE
      ? await writeNames(out, state)
      : await renderToFile(out, format, state.entries(), {
          version: 1,
          options: resolveRenderOptions(),
        }).then((r) => ({ bytes: r.bytes, rendered: r.stats.rendered }));
  const report: ChildReport = {
    seconds: (performance.now() - start) / 1000,
    cpu: cpuNow() - cpu,
    ...done,
    rssBefore,
    renderPeak: statusKiB('VmHWM'),
    reset,
  };
  console.log(JSON.stringify(report));
}

/** Exactly `count` distinct entries of `kind` that `parseTarget` makes of `lines`, in list order. */
function entriesOf(lines: readonly string[], kind: FeedEntry['kind'], count: number): FeedEntry[] {
  const seen = new Set<string>();
  const out: FeedEntry[] = [];
  for (const line of lines) {
    const target = parseTarget(line.trim());
    if (!target.ok || target.value.kind !== kind || seen.has(target.value.expression)) continue;
    seen.add(target.value.expression);
    out.push({ expression: target.value.expression, kind, category: 'other', action: 'block' });
    if (out.length === count) return out;
  }
  throw new Error(`only ${out.length} ${kind} entries in the list, ${count} wanted`);
}

async function measureFormat(format: OutputFormat | typeof BASELINE, payload: string, dir: string) {
  const out = join(dir, `out.${format}`);
  const run = await runNodeMeasured([
    '--expose-gc',
    fileURLToPath(import.meta.url),
    '--child',
    format,
    payload,
    out,
  ]);
  if (run.code !== 0) throw new Error(`${format} child exited with ${run.code}:\n${run.stderr.slice(-2000)}`);
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as ChildReport;
  rmSync(out, { force: true });
  return { ...report, processPeak: run.peakRss, peakSource: run.peakRssSource };
}

async function main() {
  const missing = missingData(NRD_LIST, PHISHING_URLS);
  if (missing) return rec.skip(missing);
  const dir = mkdtempSync(join(tmpdir(), 'takedown-bench-render-'));
  try {
    const payload = join(dir, 'state.payload');
    {
      const domains = entriesOf(readLines(NRD_LIST, DOMAINS + 10_000), 'domain', DOMAINS);
      const urls = entriesOf(readLines(PHISHING_URLS), 'url', URLS);
      const state = PlainState.fromEntries([...domains, ...urls]);
      writeFileSync(payload, state.toSnapshotPayload());
      rec.figure(
        'state: entries',
        state.entryCount,
        'entries',
        `${formatNumber(DOMAINS)} domain + ${formatNumber(URLS)} url`,
      );
      rec.figure('state: snapshot payload', state.toSnapshotPayload().length / MiB, 'MiB');
    }
    collectGarbage();

    const results = new Map<string, Awaited<ReturnType<typeof measureFormat>>>();
    for (const format of [BASELINE, ...OUTPUT_FORMATS] as const) {
      console.log(`  rendering ${format}...`);
      const r = await measureFormat(format, payload, dir);
      results.set(format, r);
      const label = format === BASELINE ? 'baseline (names, one per line, write stream)' : format;
      const added = r.renderPeak - r.rssBefore;
      rec.figure(
        `${label}: time`,
        r.cpu,
        's CPU',
        `${r.seconds.toFixed(2)} s wall; ${formatNumber(r.rendered)} entries written`,
      );
      rec.figure(
        `${label}: speed`,
        r.bytes / MB / r.cpu,
        'MB per CPU s',
        `${(r.bytes / MB / r.seconds).toFixed(1)} MB/s wall`,
      );
      rec.figure(`${label}: file size`, r.bytes / MB, 'MB');
      rec.figure(
        `${label}: peak RSS while writing`,
        r.renderPeak / MiB,
        'MiB',
        `${formatNumber(r.rssBefore / MiB)} MiB with the state loaded, so writing added ${formatNumber(added / MiB)} MiB` +
          (r.reset ? '' : ' (peak mark could not be reset: whole-process peak)'),
      );
      if (r.processPeak !== null)
        rec.figure(
          `${label}: peak RSS of the process`,
          r.processPeak / MiB,
          'MiB',
          `loading included; ${r.peakSource}`,
        );
    }

    const rpz = results.get('rpz');
    const base = results.get(BASELINE);
    if (rpz && base) {
      const added = rpz.renderPeak - rpz.rssBefore;
      rec.goal(
        'rpz: rendering does not hold the zone in memory (RSS added while rendering, vs the file size)',
        `< ${GOAL_ADDED_SHARE * 100} % of the file size`,
        `${formatNumber(added / MiB)} MiB added for a ${formatNumber(rpz.bytes / MiB)} MiB file ` +
          `(${((100 * added) / rpz.bytes).toFixed(1)} %); peak ${formatNumber(rpz.renderPeak / MiB)} MiB with the state`,
        rpz.reset && added < GOAL_ADDED_SHARE * rpz.bytes,
      );
      rec.note(
        `rpz writes ${(rpz.bytes / MB / rpz.cpu / (base.bytes / MB / base.cpu)).toFixed(2)}x the baseline's MB per CPU ` +
          `second and takes ${(rpz.cpu / base.cpu).toFixed(2)}x its CPU time for a file ${(rpz.bytes / base.bytes).toFixed(1)}x ` +
          'as large (two records, a comment and the SOA/NS header per name). renderToFile also fsyncs and renames; ' +
          'the baseline does not.',
      );
    }
    rec.note(
      'squid collects every name before writing (Squid refuses a file that lists a sub-domain before its parent, ' +
        'and covered sub-domains are left out), so its memory grows with the list; the other formats stream.',
    );
    rec.note(
      'RSS with the state loaded is what the agent holds anyway (runtime plus the payload and its line index); ' +
        '"added" is the peak while writing minus that, i.e. the memory rendering itself needs.',
    );
    return rec.write();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const [format, payload, out] = process.argv.slice(3) as [OutputFormat | typeof BASELINE, string, string];
  await child(format, payload, out);
} else {
  await main();
}
