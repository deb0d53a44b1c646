import type { OutputFormat } from '../render/index.ts';
import type { RenderContext, RenderSource } from '../render/options.ts';
import { dropPrevious } from '../util/atomic-file.ts';
import { type ReloadFailure, type ReloadOptions, type ReloadReport, runReload } from './reload.ts';
import { type RenderedFile, renderToFile } from './render-to-file.ts';

/** One configured output: `--output FORMAT=PATH`, with the command that makes its reader reload it. */
export interface OutputSpec {
  format: OutputFormat;
  path: string;
  /** Shell command run after the new file is in place, e.g. `unbound-control -c FILE reload`. */
  reload?: string;
}

export interface OutputReport extends RenderedFile {
  format: OutputFormat;
  path: string;
  reload?: ReloadReport;
}

export interface RenderFailure {
  code: 'render_failed';
  message: string;
}

/** Why an output was not applied; `path` says which. The agent keeps its version and retries later. */
export type OutputFailure = (RenderFailure | ReloadFailure) & { path: string };

export type OutputResult = { ok: true; value: OutputReport } | { ok: false; error: OutputFailure };

/**
 * Renders one output atomically, then runs its reload command. While the reload has not succeeded
 * the last confirmed file stays beside the output as `PATH.prev` (a failed reload keeps it, and so
 * does the next render), so an operator or the agent can roll back with `restorePrevious`; a
 * successful reload removes it. Never throws.
 */
export async function applyOutput(
  spec: OutputSpec,
  entries: RenderSource,
  context: RenderContext,
  reloadOptions?: ReloadOptions,
): Promise<OutputResult> {
  let rendered: RenderedFile;
  try {
    rendered = await renderToFile(spec.path, spec.format, entries, context, {
      keepPrevious: spec.reload !== undefined,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: {
        code: 'render_failed',
        message: `cannot render ${spec.format} to ${spec.path}: ${reason}`,
        path: spec.path,
      },
    };
  }
  const report: OutputReport = { format: spec.format, path: spec.path, ...rendered };
  if (spec.reload !== undefined) {
    const reloaded = await runReload(spec.reload, reloadOptions);
    if (!reloaded.ok) return { ok: false, error: { ...reloaded.error, path: spec.path } };
    report.reload = reloaded.value;
  }
  try {
    await dropPrevious(spec.path);
  } catch {
    // A stale `.prev` only costs disk space; the output itself is applied.
  }
  return { ok: true, value: report };
}
