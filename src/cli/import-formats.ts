import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';

export const IMPORT_FORMATS = ['plain', 'hosts', 'csv', 'jsonl'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** A line of an input list that is not a target; the import reports it and goes on. */
export interface BadLine {
  line: number;
  /** Stable code, counted in the import report: `not_a_hosts_line`, `not_a_target`, `empty_column`. */
  code: string;
  reason: string;
  /** The line as read. */
  text: string;
}

// The classic hosts-file preamble: names every hosts file maps and no regulator means to block.
const HOSTS_PREAMBLE = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);

/** An IPv4 or IPv6 address (with an optional zone, `fe80::1%lo0`) as the first field of a hosts line. */
const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:.]*:[0-9a-f:.]*(%\w+)?)$/i;

/** Picks the format from the file name, falling back to `plain` (one target per line). */
export function formatFromName(path: string): ImportFormat {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (/(^|[/_.-])hosts([_.-]|$)/.test(name)) return 'hosts';
  return 'plain';
}

/** Opens a file (transparently gunzipping `.gz`) as a byte stream; `-` is standard input. */
export function openInput(path: string): Readable {
  const raw = path === '-' ? process.stdin : createReadStream(path);
  return path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

/**
 * Streams the targets of a list in the given format, one chunk of `chunkSize` at a time, so a 1.5M-line
 * file never sits in memory. `onBad` hears about lines that hold no target.
 */
export async function* readTargets(
  input: Readable,
  format: ImportFormat,
  onBad: (bad: BadLine) => void,
  chunkSize = 5000,
): AsyncGenerator<string[]> {
  let chunk: string[] = [];
  const source = format === 'csv' ? csvTargets(input, onBad) : lineTargets(input, format, onBad);
  for await (const target of source) {
    chunk.push(target);
    if (chunk.length >= chunkSize) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

async function* lineTargets(input: Readable, format: ImportFormat, onBad: (bad: BadLine) => void) {
  let line = 0;
  for await (const raw of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    const text = raw.trim();
    if (text === '' || text.startsWith('#') || text.startsWith('!')) continue;
    if (format === 'plain') yield text;
    else if (format === 'hosts') yield* hostsLine(text, line, onBad);
    else {
      const target = jsonLine(text);
      if (target === undefined) {
        onBad({
          line,
          code: 'not_a_target',
          reason: 'not a JSON string or object with a "target" field',
          text,
        });
      } else yield target;
    }
  }
}

function* hostsLine(text: string, line: number, onBad: (bad: BadLine) => void) {
  const fields = text.replace(/#.*$/, '').trim().split(/\s+/);
  if (fields.length < 2 || !ADDRESS.test(fields[0] as string)) {
    // Without an address first, the first name would be taken for one and silently dropped.
    onBad({ line, code: 'not_a_hosts_line', reason: 'not a hosts line (an IP address, then names)', text });
    return;
  }
  for (const name of fields.slice(1)) if (!HOSTS_PREAMBLE.has(name.toLowerCase())) yield name;
}

function jsonLine(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object' && typeof (value as { target?: unknown }).target === 'string') {
      return (value as { target: string }).target;
    }
  } catch {
    // reported by the caller
  }
  return undefined;
}

const TARGET_COLUMNS = ['target', 'url', 'domain', 'host', 'hostname'];

async function* csvTargets(input: Readable, onBad: (bad: BadLine) => void) {
  let column: string | undefined;
  // The target column is chosen from the header, not from the first record: with relax_column_count a short
  // first row would lack it. A `#` starts a comment only at the start of a line: URLs and free text contain it.
  const parser = input.pipe(
    parseCsv({
      columns: (header: string[]) => {
        const names = header.map((h) => h.trim().toLowerCase());
        column = TARGET_COLUMNS.find((c) => names.includes(c));
        if (column === undefined)
          throw new Error(`CSV header has none of the columns ${TARGET_COLUMNS.join(', ')}`);
        return names;
      },
      info: true,
      skip_empty_lines: true,
      comment: '#',
      comment_no_infix: true,
      relax_column_count: true,
      trim: true,
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<CsvRow>) {
    const target = record[column as string];
    if (target) yield target;
    else {
      onBad({
        line: info.lines,
        code: 'empty_column',
        reason: `empty ${column} column`,
        text: Object.values(record).join(','),
      });
    }
  }
}

type CsvRow = { record: Record<string, string | undefined>; info: { lines: number } };
