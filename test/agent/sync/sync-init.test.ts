import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTool, missingTools } from '../../../bench/lib/resolvers/unbound.ts';
import { runCli, tempDir } from '../../helpers/hub.ts';

// `takedown sync --init`: the outputs exist, empty but valid, before the first sync, so the resolvers
// that load them can start; the checkers of the real programs accept them.

const run = promisify(execFile);
const check = async (tool: string, args: string[]) => {
  const { stdout, stderr } = await run(findTool(tool) ?? tool, args);
  return stdout + stderr;
};

let dir: string;
const out = (name: string) => join(dir, 'out', name);
const FORMATS = { rpz: 'takedown.rpz', unbound: 'takedown.conf', dnsmasq: 'dnsmasq.conf', hosts: 'hosts' };

beforeAll(async () => {
  dir = await tempDir('takedown-init-');
  await mkdir(join(dir, 'out'));
  await writeFile(join(dir, 'squid.acl'), 'kept.example\n');
  const outputs = Object.entries(FORMATS).flatMap(([format, name]) => ['--output', `${format}=${out(name)}`]);
  const init = await runCli(
    [
      'sync',
      '--init',
      '--hub',
      'http://127.0.0.1:9',
      '--feed',
      'dns',
      '--key',
      join(dir, 'no-such-key'),
      '--state',
      join(dir, 'state'),
      ...outputs,
      '--output',
      `squid=${join(dir, 'squid.acl')}`,
    ],
    { env: { TAKEDOWN_TOKEN: 'tdk_test' } },
  );
  expect(init.code, init.stderr).toBe(0);
  expect(JSON.parse(init.stderr.trim())).toMatchObject({
    event: 'outputs_initialized',
    written: Object.values(FORMATS).map(out),
    kept: [join(dir, 'squid.acl')],
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('takedown sync --init', () => {
  it('writes each output empty, says so in its last line, and keeps an existing one untouched', async () => {
    expect((await readFile(out(FORMATS.rpz), 'utf8')).trimEnd().split('\n').at(-1)).toBe(
      '; end: 0 entries, 0 skipped, registry version 0',
    );
    expect((await readFile(out(FORMATS.hosts), 'utf8')).trimEnd().split('\n').at(-1)).toBe(
      '# end: 0 entries, 0 skipped, registry version 0',
    );
    expect(await readFile(join(dir, 'squid.acl'), 'utf8')).toBe('kept.example\n');
  });

  it.skipIf(missingTools(['named-checkzone']))('writes an RPZ zone named-checkzone loads', async () => {
    expect(await check('named-checkzone', ['rpz.takedown', out(FORMATS.rpz)])).toMatch(
      /loaded serial \d+\nOK/,
    );
  });

  it.skipIf(missingTools(['unbound-checkconf']))(
    'writes an Unbound include and an RPZ zone unbound-checkconf accepts',
    async () => {
      const config = join(dir, 'unbound.conf');
      await writeFile(
        config,
        `server:\n  username: ""\n  chroot: ""\n  directory: "${dir}"\n  module-config: "respip iterator"\n` +
          `  include: "${out(FORMATS.unbound)}"\nrpz:\n  name: "rpz.takedown."\n  zonefile: "${out(FORMATS.rpz)}"\n`,
      );
      expect(await check('unbound-checkconf', [config])).toMatch(/no errors/);
    },
  );

  it.skipIf(missingTools(['dnsmasq'], { requiredInCi: false }))(
    'writes a file dnsmasq --test accepts',
    async () => {
      expect(await check('dnsmasq', ['--test', `--conf-file=${out(FORMATS.dnsmasq)}`])).toMatch(
        /syntax check OK/,
      );
    },
  );
});
