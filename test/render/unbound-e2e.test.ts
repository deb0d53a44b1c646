import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authZoneSnippet,
  INTERNET_ZONE,
  missingTools,
  type RunningUnbound,
  startUnbound,
} from '../../bench/lib/resolvers/unbound.ts';
import { applyOutput } from '../../src/agent/apply-output.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { type RenderContext, resolveRenderOptions } from '../../src/render/index.ts';
import { domain, domainEntries } from './fixtures.ts';

// A real Unbound loads the rendered files; `test.` (answered by an auth-zone as if from upstream)
// stands for the rest of the internet: every name in it resolves to 192.0.2.99.

const options = resolveRenderOptions({ walledGardenAddresses: ['192.0.2.1'] });
const realNames = domainEntries().slice(0, 500);
const sorted = (list: FeedEntry[]) => [...list].sort((a, b) => (a.expression < b.expression ? -1 : 1));
const listV1 = sorted([...realNames, domain('blocked.test'), domain('casino.test', 'redirect')]);
const listV2 = sorted([...realNames, domain('casino.test', 'redirect'), domain('new.test')]);

async function answer(unbound: RunningUnbound, name: string): Promise<string> {
  const response = await unbound.query(name, 'A');
  return [response.status, ...response.answers.map((a) => a.data)].join(' ');
}

/** Polls until `name` answers `expected` (a reload takes effect asynchronously), then returns the answer. */
async function settle(unbound: RunningUnbound, name: string, expected: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last = await answer(unbound, name);
  while (last !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await answer(unbound, name);
  }
  return last;
}

describe.skipIf(missingTools(['unbound', 'unbound-control', 'unbound-checkconf']))(
  'with a real Unbound',
  () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'render-unbound-'));
      await writeFile(join(dir, 'test.zone'), INTERNET_ZONE);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const internet = () => `server:
  local-zone: "test." nodefault
${authZoneSnippet('test.', join(dir, 'test.zone'))}`;

    describe('the rpz output, loaded with rpz: zonefile:', () => {
      let unbound: RunningUnbound;
      let path: string;
      const context = (version: number): RenderContext => ({
        version,
        options,
        refs: () => '5167/BTTTT-CATTT',
      });

      beforeAll(async () => {
        path = join(dir, 'takedown.rpz');
        await renderToFile(path, 'rpz', listV1, context(1));
        unbound = await startUnbound([
          'server:\n  module-config: "respip iterator"\n',
          internet(),
          `rpz:\n  name: "${options.zone}"\n  zonefile: "${path}"\n`,
        ]);
      });
      afterAll(async () => {
        await unbound?.stop();
      });

      it('answers NXDOMAIN for a listed name and its sub-domains, and resolves the rest', async () => {
        expect(await answer(unbound, 'blocked.test')).toBe('NXDOMAIN');
        expect(await answer(unbound, 'www.blocked.test')).toBe('NXDOMAIN');
        expect(await answer(unbound, 'a.b.blocked.test')).toBe('NXDOMAIN');
        expect(await answer(unbound, 'notblocked.test')).toBe('NOERROR 192.0.2.99');
        expect(await answer(unbound, 'test-blocked.test')).toBe('NOERROR 192.0.2.99');
        const real = realNames[123]?.expression.slice(0, -1) ?? '';
        expect(await answer(unbound, real)).toBe('NXDOMAIN');
        expect(await answer(unbound, `www.${real}`)).toBe('NXDOMAIN');
      });

      it('sends a redirect entry and its sub-domains to the walled garden', async () => {
        expect(await answer(unbound, 'casino.test')).toBe('NOERROR 192.0.2.1');
        expect(await answer(unbound, 'live.casino.test')).toBe('NOERROR 192.0.2.1');
      });

      it('unblocks a removed name after a re-render and unbound-control reload', async () => {
        const result = await applyOutput(
          { format: 'rpz', path, reload: unbound.reloadCommand },
          listV2,
          context(2),
        );
        expect(result).toMatchObject({ ok: true, value: { stats: { rendered: listV2.length } } });
        expect(await settle(unbound, 'blocked.test', 'NOERROR 192.0.2.99')).toBe('NOERROR 192.0.2.99');
        expect(await answer(unbound, 'www.blocked.test')).toBe('NOERROR 192.0.2.99');
        expect(await answer(unbound, 'new.test')).toBe('NXDOMAIN');
        expect(await answer(unbound, 'casino.test')).toBe('NOERROR 192.0.2.1');
      });
    });

    describe('the unbound output, loaded with include:', () => {
      let unbound: RunningUnbound;
      let path: string;

      beforeAll(async () => {
        path = join(dir, 'takedown.conf');
        await renderToFile(path, 'unbound', listV1, { version: 1, options });
        unbound = await startUnbound([internet(), `include: "${path}"\n`]);
      });
      afterAll(async () => {
        await unbound?.stop();
      });

      it('answers NXDOMAIN for a listed name and its sub-domains, the walled garden for a redirect', async () => {
        expect(await answer(unbound, 'blocked.test')).toBe('NXDOMAIN');
        expect(await answer(unbound, 'x.y.blocked.test')).toBe('NXDOMAIN');
        expect(await answer(unbound, 'casino.test')).toBe('NOERROR 192.0.2.1');
        expect(await answer(unbound, 'www.casino.test')).toBe('NOERROR 192.0.2.1');
        expect(await answer(unbound, 'ok.test')).toBe('NOERROR 192.0.2.99');
      });

      it('applies a re-render after unbound-control reload', async () => {
        const result = await applyOutput({ format: 'unbound', path, reload: unbound.reloadCommand }, listV2, {
          version: 2,
          options,
        });
        expect(result.ok).toBe(true);
        expect(await settle(unbound, 'blocked.test', 'NOERROR 192.0.2.99')).toBe('NOERROR 192.0.2.99');
        expect(await answer(unbound, 'new.test')).toBe('NXDOMAIN');
      });
    });
  },
);
