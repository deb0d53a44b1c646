/**
 * Worker-thread entry of seedFromStore: checks each stored payload against its manifest's SHA-256 and
 * indexes the plain ones. The plain states take their set hash from the manifest (the scan that stored it
 * computed it from these very lines), which spares a digest per line; the filter mirror's keys are
 * checked against the filter snapshot's checksum, their only link to it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sha256Hex } from '../core/bytes.ts';
import { indexSnapshot } from '../core/plain-payload.ts';
import { SetHash } from '../core/set-hash.ts';
import { FilterMirror } from './filter-mirror.ts';
import type { SeedCheck, SeedCheckRequest } from './mirror-seed.ts';

async function check(request: SeedCheckRequest): Promise<SeedCheck> {
  const plain = {} as Record<'dns' | 'url', { starts: Uint32Array; sum: Uint32Array }>;
  for (const feed of ['dns', 'url'] as const) {
    const { payload, payloadSha256, checksum, entryCount } = request.plain[feed];
    const sum = SetHash.fromHex(checksum);
    if ((await sha256Hex(payload)) !== payloadSha256 || !sum)
      return { ok: false, reason: `stored ${feed} snapshot does not match its manifest` };
    const starts = indexSnapshot(payload);
    if (!starts.ok) return { ok: false, reason: `stored ${feed} snapshot: ${starts.error.message}` };
    if (starts.value.length - 1 !== entryCount)
      return { ok: false, reason: `stored ${feed} snapshot does not hold its manifest's entry count` };
    plain[feed] = { starts: starts.value, sum: sum.words };
  }
  const summary = await FilterMirror.fromWideKeys(request.wide).summary(request.filter.bits);
  if (summary.checksum !== request.filter.checksum)
    return { ok: false, reason: 'stored filter mirror keys do not match the filter snapshot' };
  return { ok: true, plain };
}

try {
  const value = await check(workerData as SeedCheckRequest);
  const buffers = value.ok ? Object.values(value.plain).flatMap((p) => [p.starts.buffer, p.sum.buffer]) : [];
  parentPort?.postMessage({ ok: true, value }, buffers as ArrayBuffer[]);
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).message });
}
