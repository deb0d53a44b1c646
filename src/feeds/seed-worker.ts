/**
 * Worker-thread entry of seedFromStore: checks each stored payload against its manifest's SHA-256 and
 * indexes the plain ones. A payload whose digest is the one the hub signed is the one it built from
 * checked lines, so indexing it needs only its line ends, and the plain states take their set hash from
 * the manifest (the scan that stored it computed it from these very lines); the filter mirror's keys are
 * checked against the filter snapshot's checksum, their only link to it.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SetHash } from '../core/set-hash.ts';
import { FilterMirror } from './filter-mirror.ts';
import type { SeedCheck, SeedCheckRequest } from './mirror-seed.ts';

const LF = 0x0a;

/** The start of every line of `payload`, then its length; null when it does not end with LF. */
function lineStarts(payload: Uint8Array, lines: number): Uint32Array | null {
  if (payload.length > 0 && payload[payload.length - 1] !== LF) return null;
  const starts = new Uint32Array(lines + 1);
  let line = 0;
  for (let end = payload.indexOf(LF); end !== -1; end = payload.indexOf(LF, end + 1)) {
    if (line === lines) return null;
    starts[++line] = end + 1;
  }
  return line === lines ? starts : null;
}

async function check(request: SeedCheckRequest): Promise<SeedCheck> {
  const plain: Extract<SeedCheck, { ok: true }>['plain'] = {};
  for (const { feed, payload, payloadSha256, checksum, entryCount } of request.plain) {
    const sum = SetHash.fromHex(checksum);
    if (createHash('sha256').update(payload).digest('hex') !== payloadSha256 || !sum)
      return { ok: false, reason: `stored ${feed} snapshot does not match its manifest` };
    const starts = lineStarts(payload, entryCount);
    if (!starts)
      return { ok: false, reason: `stored ${feed} snapshot does not hold its manifest's entry count` };
    plain[feed] = { starts, sum: sum.words };
  }
  const filter = request.filter;
  if (filter) {
    const summary = await FilterMirror.fromWideKeys(filter.wide).summary(filter.bits);
    if (summary.checksum !== filter.checksum)
      return { ok: false, reason: 'stored filter mirror keys do not match the filter snapshot' };
  }
  return { ok: true, plain };
}

try {
  const value = await check(workerData as SeedCheckRequest);
  const buffers = value.ok ? Object.values(value.plain).flatMap((p) => [p.starts.buffer, p.sum.buffer]) : [];
  parentPort?.postMessage({ ok: true, value }, buffers as ArrayBuffer[]);
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).message });
}
