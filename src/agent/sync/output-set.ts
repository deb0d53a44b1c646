import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PlainState } from '../../core/plain-state.ts';
import type { RenderOptions } from '../../render/options.ts';
import { applyOutput, type OutputSpec } from '../apply-output.ts';
import type { OutputRecord } from './state-store.ts';
import type { SyncLog } from './sync-log.ts';
import type { SyncMetrics } from './sync-metrics.ts';

/** One output as the agent tracks it: its configuration and what it last received. */
interface TrackedOutput {
  spec: OutputSpec;
  record: OutputRecord | undefined;
}

/**
 * The configured outputs and, for each, the version it holds: which ones are behind the applied state
 * (a crash mid-render, a failed reload, a file someone deleted) and what to report to the hub.
 */
export class OutputSet {
  readonly #outputs: TrackedOutput[];
  readonly #render: RenderOptions;
  readonly #reloadTimeoutMs: number;
  readonly #log: SyncLog;
  readonly #metrics: SyncMetrics;

  constructor(
    specs: readonly OutputSpec[],
    saved: readonly OutputRecord[],
    options: { render: RenderOptions; reloadTimeoutMs: number; log: SyncLog; metrics: SyncMetrics },
  ) {
    this.#outputs = specs.map((spec) => ({
      spec,
      record: saved.find((r) => r.format === spec.format && r.path === spec.path),
    }));
    this.#render = options.render;
    this.#reloadTimeoutMs = options.reloadTimeoutMs;
    this.#log = options.log;
    this.#metrics = options.metrics;
  }

  /** What to save in the state directory. */
  get records(): OutputRecord[] {
    return this.#outputs.flatMap((o) => (o.record ? [o.record] : []));
  }

  /** Outputs that do not hold `version` confirmed (rendered and reloaded), or whose file is gone. */
  async behind(version: number): Promise<OutputSpec[]> {
    const behind: OutputSpec[] = [];
    for (const { spec, record } of this.#outputs) {
      const current = record?.version === version && record.ok;
      if (!current || !(await exists(spec.path))) behind.push(spec);
    }
    return behind;
  }

  /**
   * Renders `state` into `specs` (atomically, one after another) and reloads each; returns whether
   * all succeeded. A failure is logged and counted, and the output stays behind for a retry.
   */
  async apply(
    specs: readonly OutputSpec[],
    state: PlainState,
    version: number,
    now: () => number,
  ): Promise<boolean> {
    let allOk = true;
    for (const spec of specs) {
      const tracked = this.#outputs.find((o) => o.spec === spec);
      if (!tracked) continue;
      const started = performance.now();
      const result = await applyOutput(
        spec,
        state,
        { version, options: this.#render },
        { timeoutMs: this.#reloadTimeoutMs },
      );
      const appliedAt = new Date(now()).toISOString();
      if (result.ok) {
        const { stats, bytes, reload } = result.value;
        tracked.record = { format: spec.format, path: spec.path, version, ok: true, appliedAt };
        this.#log('info', 'output_applied', {
          format: spec.format,
          path: spec.path,
          version,
          bytes,
          ...stats,
          ms: Math.round(performance.now() - started),
          ...(reload && { reloadMs: Math.round(reload.durationMs) }),
        });
      } else {
        allOk = false;
        const { code, message, path } = result.error;
        const stderr = 'stderr' in result.error ? result.error.stderr : undefined;
        tracked.record = { format: spec.format, path, version, ok: false, appliedAt };
        this.#metrics.outputFailure({ format: spec.format, code });
        this.#log('error', 'output_failed', { format: spec.format, path, version, code, message, stderr });
      }
    }
    return allOk;
  }

  /**
   * Removes what an interrupted render left beside each output: the atomic writer's temporary files
   * (`.NAME.PID.RANDOM.tmp`, never a reader's file) from a process that no longer writes them.
   */
  async removeStaleTemporaryFiles(): Promise<void> {
    for (const { spec } of this.#outputs) {
      const dir = dirname(spec.path);
      const prefix = `.${basename(spec.path)}.`;
      const names = await readdir(dir).catch(() => [] as string[]);
      const stale = names.filter(
        (name) =>
          name.startsWith(prefix) && name.endsWith('.tmp') && !name.startsWith(`${prefix}${process.pid}.`),
      );
      await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
    }
  }

  /** The `outputs` of a compliance report: ok when the output holds `version`, reloaded. */
  report(version: number): Array<{ format: string; path: string; ok: boolean }> {
    return this.#outputs.map(({ spec, record }) => ({
      format: spec.format,
      path: spec.path,
      ok: record?.version === version && record.ok,
    }));
  }

  /** When the outputs holding `version` got it (the latest of them), if any does. */
  appliedAt(version: number): string | undefined {
    const times = this.#outputs.flatMap(({ record }) =>
      record?.version === version && record.ok ? [record.appliedAt] : [],
    );
    return times.sort().at(-1);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
