/** The results file every benchmark writes (bench/results/NAME.json) and docs/BENCHMARKS.md quotes. */

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './data.ts';

/** One measured number. */
export interface Figure {
  label: string;
  value: number;
  unit: string;
  note?: string;
}

/** A goal from the issues and whether this run met it. */
export interface Goal {
  label: string;
  /** The goal as written, e.g. `>= 20 000 URLs/s`. */
  target: string;
  /** What was measured for it, with its unit, e.g. `31 250 URLs/s`. */
  measured: string;
  pass: boolean;
}

/** Where and when it ran: the doc states it beside every figure. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  /** 1-minute load average when the benchmark started (the cores are shared). */
  loadAtStart: number;
}

export interface BenchResult {
  /** The results' name: bench/NAME.ts writes bench/results/NAME.json unless `script` says otherwise. */
  name: string;
  /** The script, when one script writes several results (e.g. per size): bench/SCRIPT.ts. */
  script?: string;
  title: string;
  /** What is measured, and how (rounds, warm-up, baseline), in a sentence or two. */
  method: string;
  /** Set when the benchmark could not run (e.g. a data file is absent); then figures and goals are empty. */
  skipped?: string;
  /** Set by the runner when the script failed in the last run; then figures and goals are empty. */
  failed?: string;
  date: string;
  machine: Machine;
  figures: Figure[];
  goals: Goal[];
  notes: string[];
}

export function machineInfo(): Machine {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/** Collects figures, goals and notes while a benchmark runs, then writes them as one results file. */
export class Recorder {
  private readonly machine = machineInfo();
  private readonly figures: Figure[] = [];
  private readonly goals: Goal[] = [];
  private readonly notes: string[] = [];

  constructor(
    readonly name: string,
    private readonly title: string,
    private readonly method: string,
    private readonly script?: string,
  ) {}

  figure(label: string, value: number, unit: string, note?: string): number {
    this.figures.push(note === undefined ? { label, value, unit } : { label, value, unit, note });
    console.log(`  ${label}: ${formatNumber(value)} ${unit}${note ? ` (${note})` : ''}`);
    return value;
  }

  goal(label: string, target: string, measured: string, pass: boolean): void {
    this.goals.push({ label, target, measured, pass });
    console.log(`  goal ${label}: ${target}, measured ${measured}: ${pass ? 'PASS' : 'FAIL'}`);
  }

  note(text: string): void {
    this.notes.push(text);
    console.log(`  note: ${text}`);
  }

  /** Writes bench/results/NAME.json (atomically) and returns it. */
  write(skipped?: string): BenchResult {
    const result: BenchResult = {
      name: this.name,
      ...(this.script === undefined ? {} : { script: this.script }),
      title: this.title,
      method: this.method,
      ...(skipped === undefined ? {} : { skipped }),
      date: new Date().toISOString(),
      machine: this.machine,
      figures: skipped === undefined ? this.figures : [],
      goals: skipped === undefined ? this.goals : [],
      notes: this.notes,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const path = join(RESULTS_DIR, `${this.name}.json`);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
    return result;
  }

  /** Prints the reason and writes a result that says the benchmark was skipped. */
  skip(reason: string): BenchResult {
    console.log(`skipped: ${reason}`);
    return this.write(reason);
  }
}

/** `1234567.8` -> `1 234 568`; small numbers keep three significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US').replace(/,/g, ' ');
  if (abs === 0 || Number.isInteger(value)) return String(value);
  return Number(value.toPrecision(3)).toString();
}
