import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { findTool } from '../../bench/lib/resolvers/unbound.ts';
import type { FeedEntry } from '../../src/core/types.ts';

// Small helpers for the DNS primary's tests: `dig` and `named-compilezone` runs, record-set
// normalisation, and sample entries from real newly registered domains.

const run = promisify(execFile);

/** Runs dig with `args` (no retries, short timeout) and returns its stdout. */
export async function dig(...args: string[]): Promise<string> {
  const { stdout } = await run(findTool('dig') ?? 'dig', ['+tries=1', '+time=3', ...args], {
    maxBuffer: 512 * 1024 * 1024,
  });
  return stdout;
}

/**
 * Resource-record lines of dig or named-compilezone output as a sorted set: comments and TSIG
 * dropped, whitespace collapsed, owner lower case (AXFR repeats the SOA at the end: kept once).
 */
export function recordSet(text: string): string[] {
  const lines = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    const fields = line.split(/\s+/);
    if (fields[3] === 'TSIG') continue;
    fields[0] = (fields[0] as string).toLowerCase();
    lines.add(fields.join(' '));
  }
  return [...lines].sort();
}

/** The zone file `path` as BIND itself parses it (`named-compilezone`), one record per line. */
export async function compileZone(zone: string, path: string): Promise<string> {
  const { stdout } = await run(
    findTool('named-compilezone') ?? 'named-compilezone',
    ['-q', '-i', 'none', '-o', '-', zone, path],
    {
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  return stdout;
}

/** The changes a BIND journal file holds (`named-journalprint`), one `add`/`del` record per line. */
export async function journalPrint(path: string): Promise<string[]> {
  const { stdout } = await run(findTool('named-journalprint') ?? 'named-journalprint', [path]);
  return stdout
    .split('\n')
    .filter((line) => /^(add|del) /.test(line))
    .map((line) => line.split(/\s+/).join(' '));
}

/** The `status:` of a dig answer (`NOERROR`, `NOTAUTH`, ...), or the transfer failure line. */
export function digStatus(output: string): string {
  return (
    /status: ([A-Z]+)/.exec(output)?.[1] ?? (output.includes('Transfer failed') ? 'TRANSFER-FAILED' : 'NONE')
  );
}

export function domainEntry(name: string, action: FeedEntry['action'] = 'block'): FeedEntry {
  return { expression: `${name}/`, kind: 'domain', category: 'malware', action };
}

/** 400 real newly registered domains (test/fixtures/dns), as block entries in sorted order. */
export function sampleEntries(): FeedEntry[] {
  const text = readFileSync(new URL('../fixtures/dns/nrd-sample-400.txt', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((name) => domainEntry(name));
}

export function sortEntries(entries: FeedEntry[]): FeedEntry[] {
  return [...entries].sort((a, b) =>
    a.expression < b.expression ? -1 : a.expression > b.expression ? 1 : 0,
  );
}

/** Polls `probe` until it returns `expected` or `timeoutMs` passes; returns the last value seen. */
export async function poll<T>(probe: () => Promise<T>, expected: T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (last !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await probe();
  }
  return last;
}
