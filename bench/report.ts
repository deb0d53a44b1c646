/** Rebuilds docs/BENCHMARKS.md from bench/results/*.json (run directly, or by bench/run.ts after the scripts). */

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './lib/data.ts';
import { buildReport } from './lib/report-builder.ts';
import { RESULTS_DIR } from './lib/result.ts';

export const REPORT_PATH = join(REPO_ROOT, 'docs', 'BENCHMARKS.md');

/** Every results file by script name (files that are not valid JSON are reported and left out). */
export function readResults(dir = RESULTS_DIR): Map<string, unknown> {
  const results = new Map<string, unknown>();
  if (!existsSync(dir)) return results;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    try {
      results.set(file.slice(0, -'.json'.length), JSON.parse(readFileSync(join(dir, file), 'utf8')));
    } catch (e) {
      console.error(`bench/results/${file} is not valid JSON, left out: ${(e as Error).message}`);
    }
  }
  return results;
}

/** Writes the report; returns its path. */
export function writeReport(): string {
  writeFileSync(REPORT_PATH, buildReport(readResults()));
  return REPORT_PATH;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`wrote ${writeReport()}`);
}
