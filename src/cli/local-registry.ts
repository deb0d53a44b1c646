import { hubConfigFromEnv, loadHubConfig, localDataPaths } from '../hub/config.ts';
import { openRegistry, type Registry, type RegistryOptions } from '../registry/registry.ts';

/** The `--data` flag every command that works on the local registry accepts. */
export const dataFlag = { data: { type: 'string' } } as const;

/** Opens the registry of a data directory (flag, then TAKEDOWN_DATA, then ./data). */
export function openLocalRegistry(data: string | undefined, options: RegistryOptions = {}): Registry {
  // The hub's confidential categories: a leaf written here must commit the same targets as the hub would.
  const { confidential } = loadHubConfig(hubConfigFromEnv(process.env));
  return openRegistry(localDataPaths(data).dbPath, { confidentialCategories: confidential, ...options });
}

/** Runs `fn` with the local registry and always closes it. */
export async function withRegistry<T>(
  data: string | undefined,
  fn: (r: Registry) => T | Promise<T>,
): Promise<T> {
  const registry = openLocalRegistry(data);
  try {
    return await fn(registry);
  } finally {
    registry.close();
  }
}
