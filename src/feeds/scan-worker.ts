/** Worker-thread entry of `scanInWorker`: scans the registry read-only and posts the result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { openRegistry } from '../registry/registry.ts';
import { type ScanRequest, scanRegistry, transferables } from './feed-scan.ts';

const request = workerData as ScanRequest;
try {
  const registry = openRegistry(request.databasePath, { readonly: true, protectedDomainsFile: null });
  try {
    const scan = await scanRegistry(registry, request);
    parentPort?.postMessage({ ok: true, value: scan }, transferables(scan));
  } finally {
    registry.close();
  }
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).message });
}
