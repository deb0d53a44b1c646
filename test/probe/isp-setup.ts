import { chmod, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type Daemon, spawnDaemon, waitUntilReady } from '../../bench/lib/resolvers/daemon.ts';
import { type RunningDnsmasq, startDnsmasq } from '../../bench/lib/resolvers/dnsmasq.ts';
import {
  authZoneSnippet,
  findTool,
  freePort,
  type RunningUnbound,
  startUnbound,
} from '../../bench/lib/resolvers/unbound.ts';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import { resolveRenderOptions } from '../../src/render/index.ts';

// The ISPs of the compliance end-to-end test: the "internet" a non-compliant ISP forwards to, a dnsmasq
// without any list, and a Squid enforcing the agent's url output with RFC 7725 answers.

/** Every name under `test.` resolves to this address; `takedown.` does not exist (as at the real root). */
export const INTERNET_ADDRESS = '192.0.2.99';

/** An Unbound answering as the rest of the internet: `*.test` exists, `takedown.` is NXDOMAIN. */
export async function startInternet(dir: string): Promise<RunningUnbound> {
  const soa = '$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n';
  await writeFile(join(dir, 'test.zone'), `${soa}* A ${INTERNET_ADDRESS}\n`);
  await writeFile(join(dir, 'takedown.zone'), soa);
  return startUnbound([
    'server:\n  local-zone: "test." nodefault\n',
    authZoneSnippet('test.', join(dir, 'test.zone')),
    authZoneSnippet('takedown.', join(dir, 'takedown.zone')),
  ]);
}

/** dnsmasq forwarding every question to `upstreamPort`: an ISP resolver that enforces nothing. */
export function startForwardingDnsmasq(dir: string, upstreamPort: number): Promise<RunningDnsmasq> {
  return startDnsmasq({ dir, upstreamPort });
}

export interface RunningSquid {
  port: number;
  daemon: Daemon;
  urlAcl: string;
  stop(): Promise<void>;
}

/**
 * Squid on loopback denying the agent's `squid-url` list with 451 and a `Link: rel="blocked-by"` header,
 * forwarding everything else to an origin that answers 200 (a parent, so the URL's port does not matter).
 */
export async function startBlockingSquid(dir: string): Promise<RunningSquid> {
  await chmod(dir, 0o755); // Squid re-reads its files as its unprivileged user on reconfigure.
  const origin: Server = createServer((_, res) => res.end('<html>the listed page itself</html>'));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const address = origin.address();
  const originPort = typeof address === 'object' && address ? address.port : 0;
  const port = await freePort();
  const urlAcl = join(dir, 'takedown-url.squid');
  await renderToFile(urlAcl, 'squid-url', [], { version: 0, options: resolveRenderOptions() });
  await writeFile(
    join(dir, 'squid.conf'),
    `http_port 127.0.0.1:${port}
acl takedown_url url_regex -i "${urlAcl}"
deny_info 451:ERR_ACCESS_DENIED takedown_url
reply_header_add Link "<http://isp-compliant.test/legal-blocks>; rel=\\"blocked-by\\"" takedown_url
http_access deny takedown_url
http_access allow localhost
http_access deny all
cache_peer 127.0.0.1 parent ${originPort} 0 no-query originserver name=origin
never_direct allow all
cache deny all
access_log none
cache_log /dev/null
pid_filename none
shutdown_lifetime 0 seconds
`,
  );
  const daemon = spawnDaemon(findTool('squid') ?? 'squid', ['-N', '-f', join(dir, 'squid.conf')]);
  const listening = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
  await waitUntilReady(daemon, listening, 20_000, 100);
  return {
    port,
    daemon,
    urlAcl,
    async stop() {
      await daemon.stop();
      await new Promise((resolve) => origin.close(resolve));
    },
  };
}
