import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MALLOC_TUNING, tunedEnvironment } from '../../src/cli/malloc-tuning.ts';
import { REPO_ROOT } from '../helpers/hub.ts';

// `takedown serve` sets glibc's allocator variables for the hub by running itself again with them (glibc reads
// them only at process start); an operator's own values, or another platform, leave it as it is.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the allocator settings of takedown serve', () => {
  it('runs the hub again with them when none is set, passes SIGTERM on and ends with its code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'takedown-malloc-'));
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env))
      if (!name.startsWith('TAKEDOWN_') && !name.startsWith('MALLOC_')) env[name] = value;
    const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--data', join(dir, 'data')];
    const wrapper = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args],
      {
        cwd: REPO_ROOT,
        env,
      },
    );
    const exited = new Promise<number | null>((resolve) => wrapper.once('exit', (code) => resolve(code)));
    let output = '';
    await new Promise<void>((resolve) => {
      wrapper.stdout.on('data', (d) => {
        output += d;
        if (output.includes('takedown hub listening on')) resolve();
      });
    });
    const children = readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, 'utf8')
      .trim()
      .split(' ');
    expect(children).toHaveLength(1);
    const hub = Number(children[0]);
    const environ = readFileSync(`/proc/${hub}/environ`, 'utf8').split('\0');
    for (const [name, value] of Object.entries(MALLOC_TUNING)) expect(environ).toContain(`${name}=${value}`);
    expect(readFileSync(`/proc/${wrapper.pid}/environ`, 'utf8')).not.toContain('MALLOC_ARENA_MAX');
    wrapper.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(`/proc/${hub}`)).toBe(false);
  });

  it('leaves an operator’s own values, and other platforms, as they are', () => {
    expect(tunedEnvironment({ PATH: '/bin' }, 'linux')).toEqual({ PATH: '/bin', ...MALLOC_TUNING });
    expect(tunedEnvironment({ MALLOC_ARENA_MAX: '4' }, 'linux')).toBeNull();
    expect(tunedEnvironment({ MALLOC_MMAP_THRESHOLD_: '65536' }, 'linux')).toBeNull();
    expect(tunedEnvironment({}, 'darwin')).toBeNull();
  });
});
