import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry, type Registry } from '../../src/registry/registry.ts';
import { type CliRun, runCli, tempDir } from '../helpers/hub.ts';

// `takedown import`: a list of any supported format becomes ONE order in ONE version, or nothing at all.

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/lists/${name}`, import.meta.url));
const SCAM_HOSTS = fixture('blocklistproject-scam-hosts-head200.txt');
const ONE_HOSTS = fixture('1hosts-lite-hosts-head300.txt');

let dir: string;
let data: string;
beforeEach(async () => {
  dir = await tempDir();
  data = join(dir, 'data');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ORDER = ['--reference', 'LIST-2026-07', '--authority', 'Authority', '--category', 'fraud'];
const importList = (file: string, ...flags: string[]) =>
  runCli(['import', file, ...ORDER, '--data', data, ...flags]);

/** Exit 0 with nothing on stderr (stderr first in the diff, since it says why). */
const succeeded = (run: CliRun) =>
  expect({ stderr: run.stderr, code: run.code }).toEqual({ stderr: '', code: 0 });

/** Reads the registry the CLI wrote (after the CLI has exited). */
function inspect<T>(read: (r: Registry) => T): T {
  const registry = openRegistry(join(data, 'takedown.db'));
  try {
    return read(registry);
  } finally {
    registry.close();
  }
}
const summary = () =>
  inspect((r) => {
    const orders = r.listOrders();
    if (!orders.ok) throw new Error(orders.error.message);
    return {
      version: r.currentVersion(),
      orders: orders.value.items,
      active: [...r.activeEntries()].map((e) => e.expression),
    };
  });

async function write(name: string, content: string | Buffer) {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

describe('importing real hosts lists', () => {
  it('imports the blocklistproject scam sample as one order in version 1', async () => {
    const run = await importList(SCAM_HOSTS);
    succeeded(run);
    expect(run.stdout).toMatch(
      /^imported order 1 \(LIST-2026-07\) as version 1: 187 added, 0 already active, 0 duplicates, 0 refused/,
    );
    const s = summary();
    expect(s.version).toBe(1);
    expect(s.orders.map((o) => o.entryCount)).toEqual([187]);
    expect(s.active).toContain('0-google.com/');
    expect(s.active).toHaveLength(187);
  });

  it('imports the gzipped 1Hosts sample without its localhost preamble', async () => {
    const gz = await write('1hosts_lite_hosts.txt.gz', gzipSync(readFileSync(ONE_HOSTS)));
    const run = await importList(gz);
    succeeded(run);
    expect(run.stdout).toMatch(/version 1: 267 added/);
    const { active } = summary();
    expect(active).toHaveLength(267);
    for (const name of ['localhost/', 'broadcasthost/', 'ip6-localhost/', 'local/'])
      expect(active).not.toContain(name);
  });

  it('counts names another order already holds, in a second version', async () => {
    succeeded(await importList(SCAM_HOSTS));
    const again = await runCli([
      'import',
      SCAM_HOSTS,
      '--reference',
      'AGAIN',
      '--authority',
      'A',
      '--category',
      'malware',
      '--data',
      data,
    ]);
    succeeded(again);
    expect(again.stdout).toMatch(/order 2 \(AGAIN\) as version 2: 0 added, 187 already active/);
  });
});

describe('other formats', () => {
  it('reads CSV with a url column', async () => {
    const csv = await write(
      'orders.csv',
      'id,url,comment\n1,http://phish.example/login.php,seen #3\n2,kit.example/panel/,\n',
    );
    const run = await importList(csv);
    succeeded(run);
    expect(summary().active).toEqual(['kit.example/panel/', 'phish.example/login.php']);
  });

  it('reads JSON lines', async () => {
    const jsonl = await write(
      'orders.jsonl',
      '"a.example"\n{"target":"https://b.example/x?y=1","why":"kit"}\n',
    );
    succeeded(await importList(jsonl));
    expect(summary().active).toEqual(['a.example/', 'b.example/x?y=1']);
  });

  it('reads a plain list from standard input with --format', async () => {
    const run = await runCli(['import', '-', ...ORDER, '--format', 'plain', '--data', data], {
      input: 'one.example\ntwo.example\n# comment\n',
    });
    succeeded(run);
    expect(summary().active).toEqual(['one.example/', 'two.example/']);
  });
});

describe('invalid lines', () => {
  const LIST = ['good.example', 'com', 'google.com', 'bad!name.example', 'also-good.example/path', ''].join(
    '\n',
  );

  it('abort the whole import without --skip-invalid: exit 1, nothing written', async () => {
    const run = await importList(await write('list.txt', LIST));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused: com: public_suffix/);
    expect(run.stderr).toMatch(/refused: google\.com: protected_domain/);
    expect(run.stderr).toMatch(/refused: bad!name\.example: invalid_character/);
    expect(run.stderr).toMatch(/import aborted: 3 of 5 targets refused, nothing written/);
    expect(run.stdout).toBe('');
    const s = summary();
    expect(s.version).toBe(0);
    expect(s.orders).toEqual([]);
  });

  it('are skipped with --skip-invalid and the rest is imported', async () => {
    const run = await importList(await write('list.txt', LIST), '--skip-invalid');
    expect(run.code).toBe(0);
    // the three refused targets, then their count per code
    expect(run.stderr.trim().split('\n')).toHaveLength(4);
    expect(run.stderr).toMatch(/refused by code: /);
    expect(run.stdout).toMatch(/version 1: 2 added, .* 3 refused/);
    expect(summary().active).toEqual(['also-good.example/path', 'good.example/']);
  });

  it('include lines of the list format that hold no target', async () => {
    const jsonl = await write('broken.jsonl', '"a.example"\n{"target": \n"b.example"\n');
    const aborted = await importList(jsonl);
    expect(aborted.code).toBe(1);
    expect(aborted.stderr).toMatch(/refused: line 2: not a JSON string/);
    expect(summary().version).toBe(0);
    const skipped = await importList(jsonl, '--skip-invalid');
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(/refused: line 2:/);
    expect(summary().active).toEqual(['a.example/', 'b.example/']);
  });

  it('pass with --override, recorded in the order', async () => {
    const list = await write('list.txt', 'google.com\nevil.example\n');
    const run = await importList(list, '--override', 'court ruling 7/2026');
    succeeded(run);
    const [order] = summary().orders;
    expect(order?.override).toMatchObject({
      reason: 'court ruling 7/2026',
      rails: ['protected_domain'],
      targets: ['google.com/'],
    });
  });
});

describe('a list without any target', () => {
  it.each([
    ['an empty file', 'empty.txt', ''],
    ['only comments', 'comments.hosts', '# header\n127.0.0.1 localhost\n::1 ip6-localhost\n'],
    ['only refused targets, even with --skip-invalid', 'refused.txt', 'com\ngov.vn\n'],
  ])('writes no empty order for %s (exit 1)', async (_, name, content) => {
    const run = await importList(await write(name, content), '--skip-invalid');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/import aborted: no target to import/);
    expect(summary()).toMatchObject({ version: 0, orders: [] });
  });
});

describe('the import report', () => {
  const LIST = [
    'good.example',
    'com',
    'bad..name.example',
    'xn--zzzzzzzz.example',
    'also..bad.example',
    'good.example',
    '',
  ].join('\n');

  it('counts refusals per code and writes every refused line with its code to --rejects', async () => {
    const rejects = join(dir, 'rejects.tsv');
    const run = await importList(await write('list.txt', LIST), '--skip-invalid', '--rejects', rejects);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/refused by code: 2 empty_label, 1 (public_suffix|invalid_punycode), 1 /);
    expect(run.stdout).toMatch(/1 added, 0 already active, 1 duplicates, 4 refused \(2 empty_label, /);
    expect(readFileSync(rejects, 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'empty_label\talso..bad.example',
      'empty_label\tbad..name.example',
      'invalid_punycode\txn--zzzzzzzz.example',
      'public_suffix\tcom',
    ]);
  });

  it('--dry-run reports what would happen and writes nothing, not even the order', async () => {
    const first = await importList(await write('first.txt', 'good.example\n'));
    succeeded(first);
    const run = await importList(await write('list.txt', LIST), '--dry-run');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /dry run: 6 targets: 0 would be added, 1 already active, 1 duplicates, 4 refused \(2 empty_label, .*\); nothing written/,
    );
    const skipping = await importList(await write('list.txt', 'good.example\nnew.example\n'), '--dry-run');
    expect(skipping.code).toBe(0);
    expect(skipping.stdout).toMatch(/1 would be added, 1 already active/);
    expect(summary().version).toBe(1);
    expect(summary().orders).toHaveLength(1);
  });
});

describe('usage errors exit 2 and write nothing', () => {
  it.each([
    [['--authority', 'A', '--category', 'fraud'], /--reference and --authority are required/],
    [['--reference', 'R', '--authority', 'A', '--category', 'spam'], /--category must be one of/],
    [
      ['--reference', 'R', '--authority', 'A', '--category', 'fraud', '--format', 'xml'],
      /--format must be one of/,
    ],
    [
      ['--reference', 'R', '--authority', 'A', '--category', 'fraud', '--colour'],
      /Unknown option '--colour'/,
    ],
  ])('%j', async (flags, message) => {
    const run = await runCli(['import', SCAM_HOSTS, ...flags, '--data', data]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/usage: takedown import/);
  });
});
