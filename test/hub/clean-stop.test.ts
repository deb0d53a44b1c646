import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { markCleanStop, takeCleanStop } from '../../src/hub/clean-stop.ts';
import { openRegistry } from '../../src/registry/index.ts';
import { tempDir } from '../helpers/hub.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function closedRegistry(): Promise<string> {
  dir = await tempDir('takedown-clean-stop-');
  const path = join(dir, 'takedown.db');
  openRegistry(path).close();
  return path;
}

describe('the clean-stop mark', () => {
  it('matches a registry file nobody wrote since, once: the start that reads it removes it', async () => {
    const path = await closedRegistry();
    expect(takeCleanStop(path)).toBe(false);
    await markCleanStop(path);
    expect(takeCleanStop(path)).toBe(true);
    expect(existsSync(`${path}.clean-stop`)).toBe(false);
    expect(takeCleanStop(path)).toBe(false);
  });

  it('does not match once another process wrote the registry, or a WAL appeared', async () => {
    const path = await closedRegistry();
    await markCleanStop(path);
    const registry = openRegistry(path);
    registry.createToken('admin', 'written-while-stopped');
    registry.close();
    expect(takeCleanStop(path)).toBe(false);

    await markCleanStop(path);
    await writeFile(`${path}-wal`, '');
    expect(takeCleanStop(path)).toBe(false);
  });
});
