/**
 * Worker-thread entry of seedFromStore: checks the stored `url` payload against its manifest's SHA-256,
 * indexes it, finds its domain lines (the `dns` feed's) and their digest, and checks the stored filter
 * mirror keys. A payload whose digest is the one the hub signed is the one it built from checked lines, so
 * indexing it needs only its line ends, and the plain states take their set hashes from the manifests (the
 * scan that stored them computed them from these very lines); the filter mirror's keys are checked against
 * the filter snapshot's checksum, their only link to it. The bytes it was given go back with the answer.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { payloadOffsetOf } from '../core/artifact.ts';
import { domainLineRuns } from '../core/plain-state.ts';
import { FilterMirror } from './filter-mirror.ts';
import { decodeWideKeys, type SeedCheck, type SeedCheckRequest, seedTransfers } from './mirror-seed.ts';

const LF = 0x0a;

/** The start of every line of `payload`, then its length; null unless it is `lines` lines ending with LF. */
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

async function check({ url, filter }: SeedCheckRequest): Promise<SeedCheck> {
  const { artifact, payloadSha256, entryCount } = url;
  const payload = artifact.subarray(payloadOffsetOf(artifact));
  if (createHash('sha256').update(payload).digest('hex') !== payloadSha256)
    return { ok: false, reason: 'stored url snapshot does not match its manifest', damaged: true };
  const starts = lineStarts(payload, entryCount);
  if (!starts)
    return {
      ok: false,
      reason: "stored url snapshot does not hold its manifest's entry count",
      damaged: true,
    };
  const domainRuns = domainLineRuns(payload, starts);
  const domains = createHash('sha256');
  let domainLines = 0;
  for (let r = 0; r + 1 < domainRuns.length; r += 2) {
    const from = domainRuns[r] as number;
    const to = domainRuns[r + 1] as number;
    domains.update(payload.subarray(starts[from], starts[to]));
    domainLines += to - from;
  }
  const wide = decodeWideKeys(filter.wideKeysFile);
  const summary = wide ? await FilterMirror.fromWideKeys(wide).summary(filter.bits) : null;
  if (summary?.checksum !== filter.checksum)
    return {
      ok: false,
      reason: 'stored filter mirror keys do not match the filter snapshot',
      damaged: false,
    };
  return {
    ok: true,
    artifact,
    starts,
    domainRuns,
    domainSha256: domains.digest('hex'),
    domainLines,
    wideKeysFile: filter.wideKeysFile,
  };
}

try {
  const value = await check(workerData as SeedCheckRequest);
  const moved = value.ok
    ? seedTransfers([value.artifact, value.starts, value.domainRuns, value.wideKeysFile])
    : [];
  parentPort?.postMessage({ ok: true, value }, moved);
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).message });
}
