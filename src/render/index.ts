import { fail, ok, type Result } from '../core/types.ts';
import { renderDnsmasq } from './dnsmasq.ts';
import { renderHosts } from './hosts.ts';
import {
  isLineSource,
  type LineRenderFunction,
  type RenderContext,
  type RenderFunction,
  type RenderSource,
  type RenderStats,
} from './options.ts';
import { renderRpz } from './rpz.ts';
import { renderRpzLines } from './rpz-lines.ts';
import { renderSquid } from './squid.ts';
import { renderSquidUrl } from './squid-url.ts';
import { renderUnbound } from './unbound.ts';

export const OUTPUT_FORMATS = ['rpz', 'unbound', 'dnsmasq', 'hosts', 'squid', 'squid-url'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Renderer {
  format: OutputFormat;
  /** One line for `--help`: what the file is and how a resolver or proxy loads it. */
  description: string;
  render: RenderFunction;
  /** The same bytes from a plain state's snapshot lines, for formats whose size makes it worth it. */
  fromLines?: LineRenderFunction;
}

/** Every output format the agent writes, by the name `--output FORMAT=PATH` uses. */
export const renderers: Readonly<Record<OutputFormat, Renderer>> = {
  rpz: {
    format: 'rpz',
    description: 'RPZ zone file (BIND, Unbound, PowerDNS Recursor, Knot Resolver)',
    render: renderRpz,
    fromLines: renderRpzLines,
  },
  unbound: {
    format: 'unbound',
    description: 'Unbound include file of local-zone lines',
    render: renderUnbound,
  },
  dnsmasq: {
    format: 'dnsmasq',
    description: 'dnsmasq servers-file (re-read on SIGHUP)',
    render: renderDnsmasq,
  },
  hosts: { format: 'hosts', description: 'hosts file, exact names only', render: renderHosts },
  squid: { format: 'squid', description: 'Squid dstdomain ACL file', render: renderSquid },
  'squid-url': {
    format: 'squid-url',
    description: 'Squid url_regex -i ACL file for url entries',
    render: renderSquidUrl,
  },
};

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

export interface OutputTarget {
  format: OutputFormat;
  path: string;
}

/** Parses a `FORMAT=PATH` argument; the failure names the argument and the known formats. */
export function parseOutputSpec(spec: string): Result<OutputTarget> {
  const eq = spec.indexOf('=');
  const format = eq === -1 ? '' : spec.slice(0, eq);
  const path = eq === -1 ? '' : spec.slice(eq + 1);
  if (!isOutputFormat(format) || path === '') {
    return fail(
      'bad_output',
      `--output "${spec}" is not FORMAT=PATH with FORMAT one of ${OUTPUT_FORMATS.join(', ')}`,
    );
  }
  return ok({ format, path });
}

/**
 * Streams `source` rendered as `format` into `write`, awaiting it whenever it returns a promise
 * (back-pressure): a byte piece is reused once `write` returned, or its promise settled. A plain state
 * is rendered from its snapshot lines when the format can (and no order references are asked for). If
 * writing fails, the entry source is closed so it can release what it holds.
 */
export async function renderInto(
  write: (piece: string | Uint8Array) => Promise<void> | undefined,
  format: OutputFormat,
  source: RenderSource,
  context: RenderContext,
): Promise<RenderStats> {
  const renderer = renderers[format];
  const pieces: AsyncGenerator<string | Uint8Array, RenderStats, undefined> = !isLineSource(source)
    ? renderer.render(source, context)
    : renderer.fromLines && context.refs === undefined
      ? renderer.fromLines(source, context)
      : renderer.render(source.entries(), context);
  let step = await pieces.next();
  try {
    while (!step.done) {
      const flushed = write(step.value);
      if (flushed) await flushed;
      step = await pieces.next();
    }
    return step.value;
  } finally {
    // Lets the entry source release what it holds (a cursor, a file) when writing failed.
    if (!step.done) await pieces.return({ rendered: 0, ignored: 0, skipped: 0 });
  }
}

export {
  type EntrySource,
  type LineSource,
  type RefLookup,
  type RenderContext,
  type RenderFunction,
  type RenderOptions,
  RenderOptionsError,
  type RenderSource,
  type RenderStats,
  resolveRenderOptions,
} from './options.ts';
export { type RpzRecord, rpzApexRecords, rpzRecords } from './rpz-records.ts';
