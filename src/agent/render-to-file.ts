import type { OutputFormat } from '../render/index.ts';
import { renderInto } from '../render/index.ts';
import type { RenderContext, RenderSource, RenderStats } from '../render/options.ts';
import { type AtomicWriteOptions, writeFileAtomic } from '../util/atomic-file.ts';

export interface RenderedFile {
  stats: RenderStats;
  bytes: number;
}

/**
 * Renders `entries` (or a plain state's lines) in `format` to `path` atomically (temporary file, fsync,
 * rename): a failure half-way, including one thrown by the entry source, leaves the previous file as it was.
 */
export async function renderToFile(
  path: string,
  format: OutputFormat,
  entries: RenderSource,
  context: RenderContext,
  writeOptions?: AtomicWriteOptions,
): Promise<RenderedFile> {
  const { value, bytes } = await writeFileAtomic(
    path,
    (sink) => renderInto((piece) => sink.write(piece), format, entries, context),
    writeOptions,
  );
  return { stats: value, bytes };
}
