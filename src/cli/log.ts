import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromBase64 } from '../core/bytes.ts';
import { parsePublicKeys } from '../core/keys.ts';
import { auditLog, type LogSource } from '../core/log-audit.ts';
import { decodeBundle, entryBundlePath, TILE_WIDTH } from '../core/tlog-tiles.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

/** The hub's public log API. */
function hubSource(hub: string): LogSource {
  const base = hub.replace(/\/+$/, '');
  const get = async (path: string): Promise<Response | null> => {
    const res = await fetch(`${base}${path}`);
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res;
  };
  const b64 = (s: string) => fromBase64(s) ?? new Uint8Array(0);
  return {
    async latestCheckpoint() {
      const res = await get('/v1/log/checkpoint');
      if (res === null) throw new Error('the hub has no checkpoint (an empty log?)');
      return res.text();
    },
    async checkpoint(version) {
      return (await get(`/v1/log/checkpoint?version=${version}`))?.text() ?? null;
    },
    async leaves(start, count) {
      const out: Uint8Array[] = [];
      while (out.length < count) {
        const limit = Math.min(1000, count - out.length);
        const res = await get(`/v1/log/entries?start=${start + out.length}&limit=${limit}`);
        const page = ((await res?.json()) as { entries: Array<{ leaf: string }> } | undefined)?.entries ?? [];
        if (page.length === 0) break;
        for (const e of page) out.push(b64(e.leaf));
      }
      return out;
    },
    async inclusionProof(version, leaf) {
      const res = await get(`/v1/log/proof/inclusion?version=${version}&leaf=${leaf}`);
      return res === null ? null : ((await res.json()) as { proof: string[] }).proof.map(b64);
    },
  };
}

/** A published `log/` directory or URL (C2SP tiles, src/core/tlog-tiles.ts). */
function tilesSource(prefix: string): LogSource {
  const remote = /^https?:\/\//.test(prefix);
  const read = async (path: string): Promise<Uint8Array | null> => {
    if (remote) {
      const res = await fetch(`${prefix.replace(/\/+$/, '')}/${path}`);
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    }
    return readFile(join(prefix, path)).then(
      (b) => new Uint8Array(b),
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null;
        throw e;
      },
    );
  };
  const text = async (path: string) => {
    const bytes = await read(path);
    return bytes === null ? null : new TextDecoder().decode(bytes);
  };
  let size = 0;
  return {
    async latestCheckpoint() {
      const note = await text('checkpoint');
      if (note === null) throw new Error(`${prefix} has no checkpoint file`);
      size = Number(note.split('\n')[1]);
      return note;
    },
    checkpoint: (version) => text(`checkpoints/${version}`),
    async leaves(start, count) {
      const out: Uint8Array[] = [];
      for (let n = Math.floor(start / TILE_WIDTH); n * TILE_WIDTH < Math.min(size, start + count); n++) {
        const bundle = await read(entryBundlePath(n, Math.min(TILE_WIDTH, size - n * TILE_WIDTH)));
        if (bundle === null) break;
        decodeBundle(bundle).forEach((leaf, i) => {
          const index = n * TILE_WIDTH + i;
          if (index >= start && index < start + count) out.push(leaf);
        });
      }
      return out;
    },
  };
}

export const log: Command = {
  name: 'log',
  summary: 'audit the transparency log with only the public key; exit 1 naming the first bad leaf',
  usage:
    'log verify (--hub URL | --tiles DIR|URL) --key PUBLIC_KEY_FILE [--checkpoint FILE]...\n' +
    '  Recomputes the tree from every leaf, checks every version checkpoint and that each change points\n' +
    '  at an order the log created. --tiles is the log/ folder `takedown publish` wrote (or its URL);\n' +
    '  --checkpoint: a checkpoint seen earlier (e.g. from an artifact) whose tree the log must still hold.',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        hub: { type: 'string' },
        tiles: { type: 'string' },
        key: { type: 'string' },
        checkpoint: { type: 'string', multiple: true },
      },
      true,
    );
    if (positionals[0] !== 'verify') throw new UsageError('expected "verify"');
    if ((values.hub === undefined) === (values.tiles === undefined))
      throw new UsageError('give --hub or --tiles');
    if (!values.key) throw new UsageError('--key PUBLIC_KEY_FILE is required');
    const keys = await parsePublicKeys(await readFile(values.key, 'utf8'));
    if (!keys.ok) throw new UsageError(`${values.key}: ${keys.error.message}`);
    const pinned = await Promise.all((values.checkpoint ?? []).map((f) => readFile(f, 'utf8')));
    const source = values.hub !== undefined ? hubSource(values.hub) : tilesSource(values.tiles as string);
    const report = await auditLog(source, keys.value, pinned);
    if (report.ok) {
      console.log(`log ok: ${report.leaves} leaves, ${report.versions} checkpoints verified`);
      return 0;
    }
    const leaf = report.badLeaf === undefined ? '' : `first bad leaf ${report.badLeaf}: `;
    console.error(`log BROKEN: ${leaf}${report.reason}`);
    return 1;
  },
};
