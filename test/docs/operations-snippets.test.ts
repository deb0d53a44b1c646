import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTool, missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import { resolveSyncConfig, type SyncConfig } from '../../src/agent/sync/sync-config.ts';
import type { OutputFormat } from '../../src/render/index.ts';
import { mixedEntries } from '../render/fixtures.ts';

// Every configuration snippet of docs/OPERATIONS.md, checked by the program that will read it: the agent's
// own config parser for the JSON blocks, named-checkconf (zones loaded), unbound-checkconf, dnsmasq --test,
// squid -k parse and sh -n (the systemd units live in data/systemd/, checked by test/packaging). Absolute paths in a snippet are moved under a temporary
// root; the agent outputs a snippet names are rendered there first, so the checkers also read real files.

const run = promisify(execFile);
const DOC = new URL('../../docs/OPERATIONS.md', import.meta.url);
/** An absolute path, quoted or after a space or `=` (dnsmasq's `servers-file=/...`). */
const PATH = /"(\/[^"\s]*)"|(?<=[\s=])(\/[^\s"]+)/g;

interface Block {
  lang: string;
  body: string;
  /** Line of the opening fence, for failure messages. */
  line: number;
}

function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```([a-z]+)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end === -1) throw new Error(`OPERATIONS.md:${i + 1}: fence not closed`);
    blocks.push({ lang: open[1] as string, body: `${lines.slice(i + 1, end).join('\n')}\n`, line: i + 1 });
    i = end;
  }
  return blocks;
}

const text = await readFile(DOC, 'utf8');
const blocks = fencedBlocks(text);
const ofLang = (lang: string) =>
  blocks.filter((b) => b.lang === lang).map((b) => [`${lang} block at OPERATIONS.md:${b.line}`, b] as const);

/** The agent configurations of the JSON blocks (those naming a hub), parsed as `--config` would. */
function agentConfigs(): SyncConfig[] {
  return blocks
    .filter((b) => b.lang === 'json')
    .map((b) => JSON.parse(b.body) as Record<string, unknown>)
    .filter((values) => 'hub' in values)
    .map((values) =>
      resolveSyncConfig({
        file: { values, dir: '/etc/takedown' },
        flags: {},
        env: { TAKEDOWN_TOKEN: 'tdk_x' },
      }),
    );
}

/** Output path -> format, from the JSON configurations and every `--output FORMAT=PATH` in the text. */
function declaredOutputs(): Map<string, OutputFormat> {
  const outputs = new Map<string, OutputFormat>();
  const declare = (path: string, format: OutputFormat) => {
    const known = outputs.get(path);
    if (known && known !== format) throw new Error(`${path} is declared as ${known} and as ${format}`);
    outputs.set(path, format);
  };
  for (const config of agentConfigs()) for (const o of config.outputs) declare(o.path, o.format);
  for (const match of text.matchAll(/--output ([a-z-]+)=(\/[^\s`"]+)/g)) {
    declare(match[2] as string, match[1] as OutputFormat);
  }
  return outputs;
}

describe('the JSON and text of OPERATIONS.md', () => {
  it('has agent configurations the agent accepts, one of them per feed', () => {
    const configs = agentConfigs();
    expect(configs.map((c) => c.feed).sort()).toEqual(['dns', 'url']);
    for (const block of blocks.filter((b) => b.lang === 'json'))
      expect(() => JSON.parse(block.body)).not.toThrow();
  });

  it('names only output files that a configuration or an --output flag writes', () => {
    const outputs = declaredOutputs();
    const named = [...text.matchAll(/\/var\/lib\/takedown\/out\/[A-Za-z0-9._-]+/g)].map((m) => m[0]);
    expect(named.filter((path) => !outputs.has(path))).toEqual([]);
    expect(new Set(outputs.values())).toEqual(
      new Set(['rpz', 'unbound', 'dnsmasq', 'hosts', 'squid', 'squid-url']),
    );
  });

  it('keeps the snippets every resolver section needs', () => {
    const count = (lang: string) => blocks.filter((b) => b.lang === lang).length;
    expect({ bind: count('bind') >= 4, unbound: count('unbound') >= 3, lua: count('lua') >= 3 }).toEqual({
      bind: true,
      unbound: true,
      lua: true,
    });
    const { options, zones } = bindParts();
    expect(options?.body).toMatch(/min-update-interval 0/);
    expect(zones.length).toBeGreaterThanOrEqual(3);
  });
});

const hasOptions = (block: Block) => /^options\s*\{/m.test(block.body);

/** The BIND blocks: the one holding only the resolver's `options`, and those holding only zones. */
function bindParts(): { options: Block | undefined; zones: Block[] } {
  const bind = blocks.filter((b) => b.lang === 'bind');
  return {
    options: bind.find((b) => hasOptions(b) && !/^zone /m.test(b.body)),
    zones: bind.filter((b) => !hasOptions(b)),
  };
}

/**
 * A temporary root for one checker: `place` rewrites the absolute paths of a snippet under it, renders the
 * agent outputs it names and creates TSIG key files it includes (with tsig-keygen, as the doc says).
 */
function sandbox() {
  let root = '';
  let outputs = new Map<string, OutputFormat>();
  const rendered = new Set<string>();
  return {
    async open() {
      outputs = declaredOutputs();
      root = await mkdtemp(join(tmpdir(), 'ops-doc-'));
    },
    async close() {
      await rm(root, { recursive: true, force: true });
    },
    get root() {
      return root;
    },
    async place(body: string): Promise<string> {
      const paths = new Set([...body.matchAll(PATH)].map((m) => (m[1] ?? m[2]) as string));
      for (const path of paths) {
        const moved = join(root, path);
        const format = outputs.get(path);
        if (format) {
          await mkdir(dirname(moved), { recursive: true });
          if (rendered.has(path)) continue;
          const options = agentConfigs()[0]?.render;
          if (!options) throw new Error('no agent configuration in the doc');
          await renderToFile(moved, format, mixedEntries(), { version: 7, options });
          rendered.add(path);
        } else if (path.endsWith('.key')) {
          await mkdir(dirname(moved), { recursive: true });
          const tool = findTool('tsig-keygen') ?? 'tsig-keygen';
          const { stdout } = await run(tool, ['-a', 'hmac-sha256', basename(path, '.key')]);
          await writeFile(moved, stdout);
        } else {
          // Anything else a snippet names by absolute path is a directory (BIND's `directory`).
          await mkdir(moved, { recursive: true });
        }
      }
      return body.replace(PATH, (_, quoted?: string, bare?: string) =>
        quoted !== undefined ? `"${join(root, quoted)}"` : join(root, bare as string),
      );
    },
  };
}

/** The checker's complaint, or '' when it accepted the file. */
async function check(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(findTool(command) ?? command, args);
    return `${stdout}${stderr}`;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return `FAILED: ${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`;
  }
}

describe.skipIf(missingTools(['named-checkconf', 'tsig-keygen']))(
  'BIND snippets (named-checkconf -z)',
  () => {
    const box = sandbox();
    beforeAll(() => box.open());
    afterAll(() => box.close());

    it.each(ofLang('bind'))('%s', async (_, block) => {
      // The doc shows the resolver's `options` once and each way's `zone` apart, as named.conf.options
      // and named.conf.local hold them: check each zone with those options, and the options with a zone.
      const { options, zones } = bindParts();
      const parts =
        block === options ? [block, zones[0]] : zones.includes(block) ? [options, block] : [block];
      const conf = await box.place(parts.map((part) => part?.body ?? '').join(''));
      const file = join(box.root, `named-${block.line}.conf`);
      await writeFile(file, conf);
      const said = await check('named-checkconf', ['-z', file]);
      expect(said, conf).not.toMatch(/FAILED|error|not loaded/i);
    });
  },
);

describe.skipIf(missingTools(['unbound-checkconf']))('Unbound snippets (unbound-checkconf)', () => {
  const box = sandbox();
  beforeAll(() => box.open());
  afterAll(() => box.close());

  it.each(ofLang('unbound'))('%s', async (_, block) => {
    const conf = `server:\n  username: ""\n  chroot: ""\n  directory: "${box.root}"\n  pidfile: "${box.root}/unbound.pid"\n${await box.place(block.body)}`;
    const file = join(box.root, `unbound-${block.line}.conf`);
    await writeFile(file, conf);
    expect(await check('unbound-checkconf', [file]), conf).toMatch(/^unbound-checkconf: no errors/);
  });
});

describe.skipIf(missingTools(['dnsmasq'], { requiredInCi: false }))(
  'dnsmasq snippets (dnsmasq --test)',
  () => {
    const box = sandbox();
    beforeAll(() => box.open());
    afterAll(() => box.close());

    it.each(ofLang('dnsmasq'))('%s', async (_, block) => {
      const file = join(box.root, `dnsmasq-${block.line}.conf`);
      await writeFile(file, await box.place(block.body));
      expect(await check('dnsmasq', ['--test', `--conf-file=${file}`])).toMatch(/syntax check OK/);
    });
  },
);

describe.skipIf(missingTools(['squid'], { requiredInCi: false }))('Squid snippets (squid -k parse)', () => {
  const box = sandbox();
  beforeAll(() => box.open());
  afterAll(() => box.close());

  it.each(ofLang('squid'))('%s', async (_, block) => {
    const file = join(box.root, `squid-${block.line}.conf`);
    await writeFile(file, await box.place(block.body));
    const said = await check('squid', ['-k', 'parse', '-f', file]);
    expect(said).toMatch(/Processing: http_access deny takedown_url/);
    // Squid exits 0 on a missing ACL file or an unknown directive: its messages are the verdict. Its
    // warning about more than 100 url_regex patterns is a cost the doc states, not a configuration error.
    const complaints = said
      .split('\n')
      .filter((l) => /ERROR|FATAL|WARNING|Bungled|FAILED/i.test(l) && !/more than 100 regular/.test(l));
    expect(complaints).toEqual([]);
  });
});

describe('shell snippets', () => {
  it.each(ofLang('sh'))('%s parses with sh -n', async (_, block) => {
    expect(await check('sh', ['-n', '-c', block.body])).toBe('');
  });
});
