/**
 * `npm run bench [-- NAME...]`: runs each benchmark script in its own node process, one after the other (they
 * would disturb each other's timings), then rebuilds docs/BENCHMARKS.md from bench/results/*.json.
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/data.ts';
import { BENCH_ORDER } from './lib/report-builder.ts';
import { type BenchResult, machineInfo, RESULTS_DIR } from './lib/result.ts';
import { writeReport } from './report.ts';

function runScript(path: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(signal ? null : code));
  });
}

/** Replaces the results of a script that failed, so the report never quotes figures of an older run as current. */
function recordFailure(name: string, reason: string): void {
  const path = join(RESULTS_DIR, `${name}.json`);
  let previous: Partial<BenchResult> = {};
  try {
    previous = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // no earlier results: the failure record stands alone
  }
  const failed: BenchResult = {
    name,
    title: typeof previous.title === 'string' ? previous.title : name,
    method: typeof previous.method === 'string' ? previous.method : '',
    failed: reason,
    date: new Date().toISOString(),
    machine: machineInfo(),
    figures: [],
    goals: [],
    notes: [],
  };
  writeFileSync(path, `${JSON.stringify(failed, null, 2)}\n`);
}

async function main(selected: string[]): Promise<number> {
  const unknown = selected.filter(
    (n) => !BENCH_ORDER.includes(n) && !existsSync(join(REPO_ROOT, 'bench', `${n}.ts`)),
  );
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCH_ORDER.join(', ')}`);
    return 2;
  }
  const failures: string[] = [];
  for (const name of selected.length > 0 ? selected : BENCH_ORDER) {
    const script = join(REPO_ROOT, 'bench', `${name}.ts`);
    if (!existsSync(script)) {
      console.log(`\n== ${name}: skipped: bench/${name}.ts not present`);
      continue;
    }
    console.log(`\n== ${name}: node --expose-gc --import tsx bench/${name}.ts`);
    const start = performance.now();
    const code = await runScript(script);
    const seconds = ((performance.now() - start) / 1000).toFixed(0);
    if (code === 0) {
      console.log(`== ${name}: done in ${seconds} s`);
      continue;
    }
    const reason = code === null ? 'killed by a signal' : `exit code ${code}`;
    console.error(`== ${name}: FAILED (${reason}) after ${seconds} s`);
    failures.push(name);
    recordFailure(name, `${reason}; its output shows why`);
  }
  console.log(`\nwrote ${writeReport()}`);
  if (failures.length > 0) console.error(`failed: ${failures.join(', ')}`);
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
