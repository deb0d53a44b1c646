import { renderToFile } from '../agent/render-to-file.ts';
import type { EntryKind } from '../core/types.ts';
import { isOutputFormat, OUTPUT_FORMATS } from '../render/index.ts';
import { resolveRenderOptions } from '../render/options.ts';
import { type Command, parseFlags, UsageError } from './command.ts';
import { dataFlag, openLocalRegistry, withRegistry } from './local-registry.ts';

const FEEDS: Record<string, EntryKind[]> = { dns: ['domain'], url: ['domain', 'url'] };

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the active entries of the local registry in a resolver/proxy format, atomically',
  usage:
    `export --format ${OUTPUT_FORMATS.join('|')} --out FILE [--feed dns|url] [--include-confidential] [--data ./data]\n` +
    '  Confidential categories (csam) are left out unless --include-confidential is given.',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...dataFlag,
      format: { type: 'string' },
      out: { type: 'string' },
      feed: { type: 'string' },
      'include-confidential': { type: 'boolean' },
    });
    const format = values.format ?? '';
    if (!isOutputFormat(format)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
    if (!values.out) throw new UsageError('--out FILE is required');
    const kinds = FEEDS[values.feed ?? 'url'];
    if (!kinds) throw new UsageError('--feed must be dns or url');
    const out = values.out;
    // Created and migrated by a writable open, then read through a read-only connection: the entries stream
    // into the renderer (no array of 10M objects) and nothing can write between the rows.
    await withRegistry(values.data, () => undefined);
    const registry = openLocalRegistry(values.data, { readonly: true });
    try {
      const entries = registry.activeEntries({
        kinds,
        excludeCategories: values['include-confidential'] ? [] : ['csam'],
      });
      // While a statement is stepping, every read of the connection sees its snapshot: read the version
      // after the first row, so the file is exactly that version.
      const first = entries.next();
      const version = registry.currentVersion();
      function* all() {
        if (!first.done) yield first.value;
        yield* entries;
      }
      const written = await renderToFile(out, format, all(), { version, options: resolveRenderOptions({}) });
      console.log(
        `wrote ${out}: ${written.stats.rendered} entries as ${format} (version ${version}, ${written.bytes} bytes)`,
      );
      return 0;
    } finally {
      registry.close();
    }
  },
};
