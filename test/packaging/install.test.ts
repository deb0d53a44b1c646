import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../helpers/hub.ts';

// `npm run build` makes the package; installed globally into a fresh prefix, `takedown` runs outside the
// checkout. Slow (npm builds better-sqlite3 from source: about two minutes), so it runs in CI
// (CI=true, as .ci/run sets) or when TAKEDOWN_TEST_PACKAGE=1.

const run = promisify(execFile);
const wanted = process.env.CI === 'true' || process.env.TAKEDOWN_TEST_PACKAGE === '1';
if (!wanted) console.warn('skipping the package install test: set CI=true or TAKEDOWN_TEST_PACKAGE=1');

describe.runIf(wanted)('the npm package', () => {
  it('builds, packs, installs into a prefix and answers takedown --help outside the checkout', {
    timeout: 600_000,
  }, async () => {
    const work = await tempDir('takedown-package-');
    try {
      await rm(join(REPO_ROOT, 'dist'), { recursive: true, force: true });
      await run('npm', ['run', 'build'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
      const [tarball] = (await readdir(join(REPO_ROOT, 'dist'))).filter((f) => /^takedown-.*\.tgz$/.test(f));
      expect(tarball).toBeDefined();
      const prefix = join(work, 'prefix');
      await run(
        'npm',
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          '--no-audit',
          '--no-fund',
          join(REPO_ROOT, 'dist', tarball as string),
        ],
        { cwd: work, maxBuffer: 64 * 1024 * 1024 },
      );
      const takedown = join(prefix, 'bin', 'takedown');
      const help = await run(takedown, ['--help'], { cwd: work });
      expect(help.stdout).toMatch(/^usage: takedown <command>/);
      for (const command of ['serve', 'sync', 'backup', 'token'])
        expect(help.stdout).toContain(`  ${command} `);
      // Migrations and the protected list ship too: a token on a fresh registry outside the checkout.
      const token = await run(
        takedown,
        ['token', 'create', '--role', 'admin', '--name', 'pkg', '--data', join(work, 'data')],
        {
          cwd: work,
        },
      );
      expect(token.stdout).toMatch(/^tdk_[A-Za-z0-9_-]{43}\n$/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
