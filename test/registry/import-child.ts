/**
 * Run by import.test.ts as a separate process: imports `count` generated names into the registry at `path` as
 * one order, printing `progress N` after each chunk; with `commit` it commits, otherwise it waits to be killed.
 * A small page cache makes SQLite spill uncommitted pages into the WAL file long before the end.
 */
import { openRegistry } from '../../src/registry/index.ts';

const [path, count, mode] = process.argv.slice(2);
const total = Number(count);
const registry = openRegistry(path as string, { protectedDomainsFile: null, cacheSizeMiB: 2 });
const begun = registry.beginImport(
  { reference: 'BULK/1', authority: 'Import', category: 'fraud' },
  'import-child',
);
if (!begun.ok) throw new Error(begun.error.message);
const session = begun.value;
const CHUNK = 10_000;
for (let i = 0; i < total; i += CHUNK) {
  const names: string[] = [];
  for (let j = i; j < Math.min(i + CHUNK, total); j++) names.push(`n${j}.bulk-test.example`);
  session.add(names);
  process.stdout.write(`progress ${i + names.length}\n`);
}
if (mode === 'commit') {
  const done = session.commit();
  process.stdout.write(`committed ${done.version} ${done.adds}\n`);
  registry.close();
} else {
  process.stdout.write('holding\n');
  setInterval(() => {}, 1000);
}
