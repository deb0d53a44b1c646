import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BadLine,
  formatFromName,
  type ImportFormat,
  openInput,
  readTargets,
} from '../../src/cli/import-formats.ts';
import { tempDir } from '../helpers/hub.ts';

// Reading lists for `takedown import`: plain, hosts, CSV, JSON lines, gzip.

const fixture = (name: string) => new URL(`../fixtures/lists/${name}`, import.meta.url);
const ONE_HOSTS = fixture('1hosts-lite-hosts-head300.txt');
const SCAM_HOSTS = fixture('blocklistproject-scam-hosts-head200.txt');

async function read(input: Readable | string, format: ImportFormat, chunkSize?: number) {
  const bad: BadLine[] = [];
  const chunks: string[][] = [];
  const stream = typeof input === 'string' ? Readable.from([input]) : input;
  for await (const chunk of readTargets(stream, format, (b) => bad.push(b), chunkSize)) chunks.push(chunk);
  return { targets: chunks.flat(), chunks, bad };
}

describe('formatFromName', () => {
  it.each([
    ['list.csv', 'csv'],
    ['LIST.CSV.gz', 'csv'],
    ['orders.jsonl', 'jsonl'],
    ['orders.ndjson.gz', 'jsonl'],
    ['/etc/hosts', 'hosts'],
    ['1hosts_lite_hosts-format_2021-03-17.txt.gz', 'hosts'],
    ['scam-hosts.txt', 'hosts'],
    ['ghosts.txt', 'plain'],
    ['domains.txt', 'plain'],
  ])('%s -> %s', (name, format) => {
    expect(formatFromName(name)).toBe(format);
  });
});

describe('hosts lists', () => {
  it('skips the classic preamble of the 1Hosts list and reads every blocked name', async () => {
    const text = readFileSync(ONE_HOSTS, 'utf8');
    expect(text).toMatch(/^255\.255\.255\.255 broadcasthost$/m);
    expect(text).toMatch(/^fe80::1%lo0 localhost$/m);
    const { targets, bad } = await read(text, 'hosts');
    expect(bad).toEqual([]);
    expect(targets).toHaveLength(text.split('\n').filter((l) => l.startsWith('0.0.0.0 ')).length - 1);
    expect(targets[0]).toBe('media-d.global.abb');
    for (const skipped of ['localhost', 'localhost.localdomain', 'local', 'broadcasthost', '0.0.0.0']) {
      expect(targets).not.toContain(skipped);
    }
    expect(targets.filter((t) => t.startsWith('ip6-'))).toEqual([]);
  });

  it('reads the blocklistproject scam list after its comment header', async () => {
    const { targets, bad } = await read(readFileSync(SCAM_HOSTS, 'utf8'), 'hosts');
    expect(bad).toEqual([]);
    expect(targets).toHaveLength(187);
    expect(targets.slice(0, 2)).toEqual(['0-google.com', '007-dvd.com']);
  });

  it('takes every name of a line, drops trailing comments, and reports lines that are not hosts lines', async () => {
    const text = [
      '0.0.0.0 a.example b.example   # two names',
      '127.0.0.1\tc.example',
      '::1 ip6-localhost d.example',
      'lonely.example',
      'e.example f.example',
      '  # indented comment',
      '! adblock-style comment',
    ].join('\r\n');
    const { targets, bad } = await read(text, 'hosts');
    expect(targets).toEqual(['a.example', 'b.example', 'c.example', 'd.example']);
    expect(bad).toEqual([
      {
        line: 4,
        code: 'not_a_hosts_line',
        reason: expect.stringMatching(/not a hosts line/),
        text: 'lonely.example',
      },
      {
        line: 5,
        code: 'not_a_hosts_line',
        reason: expect.stringMatching(/not a hosts line/),
        text: 'e.example f.example',
      },
    ]);
  });
});

describe('plain lists', () => {
  it('reads one target per line, trimmed, without blanks and comments', async () => {
    const { targets, bad } = await read(
      'evil.example\n\n  https://x.example/a?b=1  \n# note\n!note\nlast.example',
      'plain',
    );
    expect(targets).toEqual(['evil.example', 'https://x.example/a?b=1', 'last.example']);
    expect(bad).toEqual([]);
  });

  it('yields chunks of the requested size', async () => {
    const text = Array.from({ length: 23 }, (_, i) => `n${i}.example`).join('\n');
    const { chunks } = await read(text, 'plain', 10);
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 3]);
  });
});

describe('CSV lists', () => {
  it.each(['target', 'URL', 'Domain'])('takes the %s column, whatever its position', async (column) => {
    const text = `reason,${column},category\nsee ticket #12,evil.example,fraud\nx,"http://a.example/p?x=1,2",phishing\n`;
    const { targets, bad } = await read(text, 'csv');
    expect(targets).toEqual(['evil.example', 'http://a.example/p?x=1,2']);
    expect(bad).toEqual([]);
  });

  it('skips comment lines, reports empty cells and short rows with their line numbers', async () => {
    const text = 'note,target\n# exported 2026-07-01\nfirst,a.example\n\nempty,\nshort\nlast,b.example\n';
    const { targets, bad } = await read(text, 'csv');
    expect(targets).toEqual(['a.example', 'b.example']);
    expect(bad).toEqual([
      { line: 5, code: 'empty_column', reason: 'empty target column', text: 'empty,' },
      { line: 6, code: 'empty_column', reason: 'empty target column', text: 'short' },
    ]);
  });

  it('refuses a header without a target column', async () => {
    await expect(read('name,category\nevil.example,fraud\n', 'csv')).rejects.toThrow(/target, url, domain/);
  });
});

describe('JSON lines', () => {
  it('reads strings and objects with a target, and reports other lines', async () => {
    const text = [
      '"evil.example"',
      '{"target": "https://x.example/login", "note": "kit"}',
      '{"url": "no-target-field.example"}',
      '{not json',
      '42',
      '',
    ].join('\n');
    const { targets, bad } = await read(text, 'jsonl');
    expect(targets).toEqual(['evil.example', 'https://x.example/login']);
    expect(bad.map((b) => b.line)).toEqual([3, 4, 5]);
  });
});

describe('openInput', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('gunzips a .gz file to the same targets as the plain file', async () => {
    const text = readFileSync(ONE_HOSTS);
    const gz = join(dir, 'list.hosts.gz');
    await writeFile(gz, gzipSync(text));
    const plain = await read(text.toString('utf8'), 'hosts');
    const unzipped = await read(openInput(gz), 'hosts');
    expect(unzipped.targets).toEqual(plain.targets);
    expect(unzipped.targets.length).toBeGreaterThan(250);
  });
});
