import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The dependency rules between rooms (docs/ARCHITECTURE.md, "Dependency rules"), checked on the
// import statements of every .ts file in src/ and workers/.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Import {
  /** Importing file, relative to the repository root. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** Repository-relative target of a relative import; undefined for `node:` and packages. */
  target?: string;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

function importsOf(file: string, source: string): Import[] {
  const found: Import[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3] ?? '';
    const target = specifier.startsWith('.')
      ? posix.normalize(posix.join(posix.dirname(file), specifier))
      : undefined;
    found.push(target === undefined ? { file, specifier } : { file, specifier, target });
  }
  return found;
}

/** `src/agent/sync/x.ts` -> `src/agent`; `workers/edge/x.ts` -> `workers/edge`. */
function roomOf(path: string): string {
  return path.split('/').slice(0, 2).join('/');
}

const MAY_IMPORT: Record<string, readonly string[]> = {
  'src/core': ['src/core'],
  'src/render': ['src/core', 'src/render'],
  'src/dns': ['src/core', 'src/render', 'src/util', 'src/dns'],
  'src/agent': ['src/core', 'src/render', 'src/dns', 'src/util', 'src/agent'],
  'workers/edge': ['src/core', 'workers/edge'],
};

/** Every import that breaks a rule, as `file: import "specifier" (why)`. */
function violations(imports: readonly Import[]): string[] {
  const broken: string[] = [];
  const report = (i: Import, why: string) => broken.push(`${i.file}: import "${i.specifier}" (${why})`);
  for (const i of imports) {
    const from = roomOf(i.file);
    const webOnly = from === 'src/core' || (from.startsWith('workers/') && from !== 'workers/tools');
    if (webOnly && i.specifier.startsWith('node:')) report(i, `${from} uses Web standards only`);
    if (i.target === undefined) continue;
    const to = roomOf(i.target);
    const allowed = MAY_IMPORT[from];
    if (allowed && !allowed.includes(to)) report(i, `${from} may import only ${allowed.join(', ')}`);
    if (from.startsWith('workers/') && from !== 'workers/tools' && !allowed) {
      if (to !== 'src/core' && !to.startsWith('workers/'))
        report(i, 'workers/ may import only src/core and workers/');
    }
    if (to === 'src/agent' && from !== 'src/agent' && from !== 'src/cli') {
      report(i, 'only src/cli may import src/agent');
    }
  }
  return broken;
}

/** Cycles in the graph of rooms of src/, each as `a -> b -> a`. */
function roomCycles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const i of imports) {
    if (i.target === undefined || !i.file.startsWith('src/') || !i.target.startsWith('src/')) continue;
    const from = roomOf(i.file);
    const to = roomOf(i.target);
    if (from === to) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from)?.add(to);
  }
  const cycles: string[] = [];
  const onPath: string[] = [];
  const done = new Set<string>();
  const visit = (room: string): void => {
    const at = onPath.indexOf(room);
    if (at !== -1) {
      cycles.push([...onPath.slice(at), room].join(' -> '));
      return;
    }
    if (done.has(room)) return;
    onPath.push(room);
    for (const next of edges.get(room) ?? []) visit(next);
    onPath.pop();
    done.add(room);
  };
  for (const room of edges.keys()) visit(room);
  return cycles;
}

const files = [...tsFiles('src'), ...tsFiles('workers')];
const imports = files.flatMap((file) => importsOf(file, readFileSync(join(ROOT, file), 'utf8')));

describe('imports between rooms', () => {
  it('reads the imports of every file', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(imports.filter((i) => i.target?.startsWith('src/core/')).length).toBeGreaterThan(50);
  });

  it('follow the dependency rules', () => {
    expect(violations(imports)).toEqual([]);
  });

  it('keep bench/ out of test/ (shared launchers live in bench/lib/resolvers)', () => {
    const benchImports = tsFiles('bench').flatMap((file) =>
      importsOf(file, readFileSync(join(ROOT, file), 'utf8')),
    );
    const intoTest = benchImports.filter((i) => i.target?.startsWith('test/'));
    expect(intoTest.map((i) => `${i.file}: import "${i.specifier}"`)).toEqual([]);
  });

  it('leave no cycle between the rooms of src/', () => {
    expect(roomCycles(imports)).toEqual([]);
  });

  it('catch a file that breaks a rule, and a cycle', () => {
    const bad = [
      ...importsOf(
        'src/core/x.ts',
        "import { open } from 'node:fs/promises';\nimport { y } from '../dns/y.ts';",
      ),
      ...importsOf('workers/edge/x.ts', "export { z } from '../../src/feeds/z.ts';"),
      ...importsOf('src/render/x.ts', "const m = await import('../util/m.ts');"),
      ...importsOf('src/hub/x.ts', "import type { A } from '../agent/a.ts';"),
    ];
    expect(violations(bad)).toEqual([
      'src/core/x.ts: import "node:fs/promises" (src/core uses Web standards only)',
      'src/core/x.ts: import "../dns/y.ts" (src/core may import only src/core)',
      'workers/edge/x.ts: import "../../src/feeds/z.ts" (workers/edge may import only src/core, workers/edge)',
      'src/render/x.ts: import "../util/m.ts" (src/render may import only src/core, src/render)',
      'src/hub/x.ts: import "../agent/a.ts" (only src/cli may import src/agent)',
    ]);
    const cycle = [
      ...importsOf('src/dns/a.ts', "import { b } from '../agent/b.ts';"),
      ...importsOf('src/agent/b.ts', "import { a } from '../dns/a.ts';"),
    ];
    expect(roomCycles(cycle)).toEqual(['src/dns -> src/agent -> src/dns']);
  });
});
