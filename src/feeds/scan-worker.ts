/**
 * Worker-thread entry of `scanInWorker`: scans the registry read-only into artifact files and posts back
 * their metadata and the wide keys (moved, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openRegistry } from '../registry/registry.ts';
import { type ScanRequest, scanRegistry } from './feed-scan.ts';

const request = workerData as ScanRequest;
try {
  const registry = openRegistry(request.databasePath, { readonly: true, protectedDomainsFile: null });
  try {
    const scan = await scanRegistry(registry, request);
    parentPort?.postMessage({ ok: true, value: scan }, [scan.wideKeysFile.buffer as ArrayBuffer]);
  } finally {
    registry.close();
  }
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).message });
}
