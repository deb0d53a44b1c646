import { chmod, link, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { parseOutputSpec, resolveRenderOptions } from '../../src/render/index.ts';
import { dropPrevious, restorePrevious, writeFileAtomic } from '../../src/util/atomic-file.ts';
import { domain } from '../render/fixtures.ts';
import { parseRpz } from '../render/strict-parsers.ts';

const options = resolveRenderOptions();
let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'render-file-'));
  path = join(dir, 'takedown.rpz');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function* names(count: number, failAt = Number.POSITIVE_INFINITY): Generator<FeedEntry> {
  for (let i = 0; i < count; i++) {
    if (i === failAt) throw new Error(`state store failed at entry ${i}`);
    yield domain(`host-${String(i).padStart(7, '0')}.example`);
  }
}

describe('renderToFile', () => {
  it('streams many entries through a small buffer and writes every one', async () => {
    const longRef = () => `${'5167/BTTTT-CATTT '.repeat(20)}ünïcode`;
    const { stats, bytes } = await renderToFile(
      path,
      'rpz',
      names(20_000),
      { version: 3, options, refs: longRef },
      { bufferSize: 256 },
    );
    const text = await readFile(path, 'utf8');
    expect(bytes).toBe(Buffer.byteLength(text));
    expect(stats).toEqual({ rendered: 20_000, ignored: 0, skipped: 0 });
    const zone = parseRpz(text);
    expect(zone.records.length).toBe(40_000);
    expect(zone.records[39_999]?.comment).toBe(`phishing ${longRef().trim()}`);
  });

  it('leaves the old file intact and no temporary file when the entries fail half-way', async () => {
    await writeFile(path, 'old zone\n');
    await expect(renderToFile(path, 'rpz', names(100_000, 50_000), { version: 4, options })).rejects.toThrow(
      /failed at entry 50000/,
    );
    expect(await readFile(path, 'utf8')).toBe('old zone\n');
    expect(await readdir(dir)).toEqual(['takedown.rpz']);
  });

  it('leaves nothing behind when a first render fails', async () => {
    await expect(renderToFile(path, 'hosts', names(10, 5), { version: 1, options })).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });

  it('closes the entry source when rendering stops early', async () => {
    let closed = false;
    const poisoned = {
      ...domain('b.example'),
      get kind(): FeedEntry['kind'] {
        throw new Error('corrupt entry');
      },
    };
    async function* source(): AsyncGenerator<FeedEntry> {
      try {
        yield domain('a.example');
        yield poisoned;
        for (;;) yield domain('c.example');
      } finally {
        closed = true;
      }
    }
    await expect(renderToFile(path, 'unbound', source(), { version: 1, options })).rejects.toThrow(
      'corrupt entry',
    );
    expect(closed).toBe(true);
  });

  it('keeps the mode of the file it replaces', async () => {
    await writeFile(path, 'old\n');
    await chmod(path, 0o640);
    await renderToFile(path, 'dnsmasq', names(3), { version: 1, options });
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });
});

describe('writeFileAtomic with keepPrevious', () => {
  const write = (text: string) =>
    writeFileAtomic(path, async (sink) => sink.write(text), { keepPrevious: true });

  it('keeps the last confirmed file as .prev until dropPrevious, and restorePrevious puts it back', async () => {
    await write('v1\n');
    expect(await readdir(dir)).toEqual(['takedown.rpz']);
    await write('v2\n');
    expect(await readFile(`${path}.prev`, 'utf8')).toBe('v1\n');
    await write('v3\n'); // v2 was never confirmed: .prev stays v1
    expect(await readFile(`${path}.prev`, 'utf8')).toBe('v1\n');
    expect(await restorePrevious(path)).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('v1\n');
    expect(await restorePrevious(path)).toBe(false);
    await write('v4\n');
    await dropPrevious(path);
    expect(await readdir(dir)).toEqual(['takedown.rpz']);
  });

  it('never writes into the replaced file (a hard link to it keeps the old text)', async () => {
    await writeFile(path, 'v1\n');
    await link(path, join(dir, 'other'));
    await write('v2\n');
    expect(await readFile(join(dir, 'other'), 'utf8')).toBe('v1\n');
  });
});

describe('parseOutputSpec', () => {
  it('parses FORMAT=PATH', () => {
    expect(parseOutputSpec('squid-url=/etc/squid/takedown=urls.txt')).toEqual({
      ok: true,
      value: { format: 'squid-url', path: '/etc/squid/takedown=urls.txt' },
    });
  });

  it.each(['bind=/x', 'rpz=', 'rpz', '=x'])('refuses %s, naming the formats', (spec) => {
    const result = parseOutputSpec(spec);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/rpz, unbound, dnsmasq, hosts, squid, squid-url/);
  });
});
