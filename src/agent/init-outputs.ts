import { access } from 'node:fs/promises';
import type { RenderOptions } from '../render/options.ts';
import type { OutputSpec } from './apply-output.ts';
import { renderToFile } from './render-to-file.ts';

/**
 * `takedown sync --init`: every output that does not exist yet, written empty but valid (version 0), so
 * a resolver configured to load it can start before the first sync. An existing output is kept: it may
 * hold a list in force, and emptying it would lift every block.
 */
export async function initOutputs(
  outputs: readonly OutputSpec[],
  render: RenderOptions,
): Promise<{ written: string[]; kept: string[] }> {
  const written: string[] = [];
  const kept: string[] = [];
  for (const { format, path } of outputs) {
    const exists = await access(path).then(
      () => true,
      () => false,
    );
    if (exists) {
      kept.push(path);
      continue;
    }
    await renderToFile(path, format, [], { version: 0, options: render });
    written.push(path);
  }
  return { written, kept };
}
