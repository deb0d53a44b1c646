/** Worker-thread entry of seedFromStore: indexes the stored plain payloads and checks every checksum. */
import { parentPort, workerData } from 'node:worker_threads';
import { indexSnapshot } from '../core/plain-payload.ts';
import { setHashOfLines } from '../core/plain-state.ts';
import { FilterMirror } from './filter-mirror.ts';
import type { SeedCheck, SeedCheckRequest } from './mirror-seed.ts';

async function check(request: SeedCheckRequest): Promise<SeedCheck> {
  const plain = {} as Record<'dns' | 'url', { starts: Uint32Array; sum: Uint32Array }>;
  for (const feed of ['dns', 'url'] as const) {
    const { payload, checksum, entryCount } = request.plain[feed];
    const starts = indexSnapshot(payload);
    if (!starts.ok) return { ok: false, reason: `stored ${feed} snapshot: ${starts.error.message}` };
    const sum = setHashOfLines(payload, starts.value);
    if (sum.hex() !== checksum || starts.value.length - 1 !== entryCount)
      return { ok: false, reason: `stored ${feed} snapshot does not match its manifest` };
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
