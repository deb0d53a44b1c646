import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, spawnDaemon, waitUntilReady } from '../../bench/lib/resolvers/daemon.ts';
import { findTool, freePort, missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { applyOutput } from '../../src/agent/apply-output.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import { resolveRenderOptions } from '../../src/render/index.ts';
import { domain, url } from './fixtures.ts';

// A real Squid on 127.0.0.1 with both rendered ACL files, in front of a loopback origin that answers
// 200 to everything; the test names resolve through Squid's hosts_file, so no DNS is involved.

const options = resolveRenderOptions();
const NAMES = ['ok.test', 'blocked.test', 'www.blocked.test', 'host.test', 'www.host.test', 'new.test'];

describe.skipIf(missingTools(['squid'], { requiredInCi: false }))(
  'the squid outputs with a real Squid',
  () => {
    let dir: string;
    let origin: Server;
    let originPort: number;
    let proxyPort: number;
    let squid: Daemon;
    let domains: string;

    /** The status Squid answers for `target` (an http:// URL on the origin's port). */
    const status = (target: string) =>
      new Promise<number>((resolve, reject) => {
        const { host } = new URL(target);
        const req = request(
          { host: '127.0.0.1', port: proxyPort, path: target, headers: { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    const at = (name: string, path = '/') => `http://${name}:${originPort}${path}`;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'render-squid-'));
      await chmod(dir, 0o755); // Squid re-reads its files as its unprivileged user on reconfigure.
      origin = createServer((_, res) => res.end('origin'));
      await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
      const address = origin.address();
      originPort = typeof address === 'object' && address ? address.port : 0;
      proxyPort = await freePort();
      domains = join(dir, 'domains.acl');
      const urls = join(dir, 'urls.acl');
      await renderToFile(domains, 'squid', [domain('www.blocked.test'), domain('blocked.test')], {
        version: 1,
        options,
      });
      await renderToFile(urls, 'squid-url', [url('host.test/phish/'), url('host.test/login.php?x=1')], {
        version: 1,
        options,
      });
      await writeFile(join(dir, 'hosts'), `127.0.0.1 ${NAMES.join(' ')}\n`);
      await writeFile(
        join(dir, 'squid.conf'),
        `http_port 127.0.0.1:${proxyPort}
acl takedown dstdomain "${domains}"
acl takedown_url url_regex -i "${urls}"
http_access deny takedown
http_access deny takedown_url
http_access allow localhost
http_access deny all
hosts_file ${join(dir, 'hosts')}
dns_nameservers 127.0.0.1
cache deny all
access_log none
cache_log /dev/null
pid_filename none
shutdown_lifetime 0 seconds
`,
      );
      squid = spawnDaemon(findTool('squid') ?? 'squid', ['-N', '-f', join(dir, 'squid.conf')]);
      const listening = () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(proxyPort, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        });
      await waitUntilReady(squid, listening, 20_000, 100);
    });

    afterAll(async () => {
      await squid?.stop();
      await new Promise((resolve) => origin?.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });

    it('denies a listed domain and its sub-domains and lets the rest through', async () => {
      expect(await status(at('ok.test'))).toBe(200);
      expect(await status(at('blocked.test'))).toBe(403);
      expect(await status(at('www.blocked.test', '/x'))).toBe(403);
    });

    it('denies listed URLs by prefix or exact query, on the host and its sub-domains', async () => {
      expect(await status(at('host.test', '/phish/kit/index.html'))).toBe(403);
      expect(await status(at('www.host.test', '/phish/'))).toBe(403);
      expect(await status(at('host.test', '/PHISH/'))).toBe(403); // url_regex -i
      expect(await status(at('host.test', '/phishy'))).toBe(200);
      expect(await status(at('host.test', '/login.php?x=1'))).toBe(403);
      expect(await status(at('host.test', '/login.php?x=2'))).toBe(200);
    });

    it('applies a re-rendered dstdomain file on reconfigure (SIGHUP)', async () => {
      const result = await applyOutput(
        { format: 'squid', path: domains, reload: `kill -HUP ${squid.child.pid}` },
        [domain('new.test')],
        { version: 2, options },
      );
      expect(result.ok).toBe(true);
      const deadline = Date.now() + 20_000;
      let code = await status(at('blocked.test')).catch(() => 0);
      while (code !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        code = await status(at('blocked.test')).catch(() => 0);
      }
      expect(code).toBe(200);
      expect(await status(at('new.test'))).toBe(403);
    });
  },
);
