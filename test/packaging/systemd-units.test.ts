import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findTool, missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { REPO_ROOT } from '../helpers/hub.ts';

// The shipped systemd units (data/systemd/) as systemd reads them, and the hardening each must keep.

const run = promisify(execFile);
const UNITS = join(REPO_ROOT, 'data/systemd');
const INSTALLED = '/usr/local/bin/takedown';

const units = async () => (await readdir(UNITS)).filter((name) => name.endsWith('.service')).sort();

describe('systemd units', () => {
  it('ship for the hub and the agent, hardened', async () => {
    expect(await units()).toEqual(['takedown-hub.service', 'takedown-sync.service']);
    for (const name of await units()) {
      const text = await readFile(join(UNITS, name), 'utf8');
      const has = (line: string) => text.split('\n').includes(line);
      expect({ name, user: has('DynamicUser=yes') || /^User=\S+$/m.test(text) }).toEqual({
        name,
        user: true,
      });
      for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes'])
        expect({ name, line, present: has(line) }).toEqual({ name, line, present: true });
      expect(text).toMatch(/^ReadWritePaths=\/var\/lib\/\S+$/m);
      expect(text).toContain(`ExecStart=${INSTALLED} `);
    }
  });

  describe.skipIf(missingTools(['systemd-analyze']))('systemd-analyze verify', () => {
    it.each(['takedown-hub.service', 'takedown-sync.service'])('%s has nothing to say', async (name) => {
      const dir = await mkdtemp(join(tmpdir(), 'takedown-unit-'));
      try {
        // verify wants ExecStart to exist: point it at a stand-in for the installed command.
        const command = join(dir, 'takedown');
        await writeFile(command, '#!/bin/sh\n', { mode: 0o755 });
        const text = (await readFile(join(UNITS, name), 'utf8')).replaceAll(INSTALLED, command);
        const file = join(dir, name);
        await writeFile(file, text);
        const { stdout, stderr } = await run(findTool('systemd-analyze') ?? 'systemd-analyze', [
          'verify',
          file,
        ]).catch((e: { stdout: string; stderr: string }) => e);
        // verify exits 0 on directives it ignores; what it prints about the unit is the verdict.
        const said = `${stdout}${stderr}`
          .split('\n')
          .filter((l) => l.includes(name) || l.startsWith('FAILED'));
        expect(said).toEqual([]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
