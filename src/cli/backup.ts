import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { localDataPaths } from '../hub/config.ts';
import { backupRegistry } from '../registry/backup.ts';
import { type Command, parseFlags, UsageError } from './command.ts';
import { dataFlag } from './local-registry.ts';

export const backup: Command = {
  name: 'backup',
  summary: 'copy the registry to FILE with SQLite online backup (consistent while the hub serves)',
  usage: 'backup --out FILE [--data ./data]   (back up data/keys/ separately: it holds the signing key)',
  async run(argv) {
    const { values } = parseFlags(argv, { ...dataFlag, out: { type: 'string' } });
    if (!values.out) throw new UsageError('--out FILE is required');
    const source = localDataPaths(values.data).dbPath;
    if (!existsSync(source)) throw new Error(`no registry at ${source} (wrong --data?)`);
    const out = resolve(values.out);
    const { version, bytes } = await backupRegistry(source, out);
    console.log(
      `backup of ${source} written to ${out}: registry version ${version}, ${bytes} bytes, quick_check ok`,
    );
    return 0;
  },
};
