import { userInfo } from 'node:os';
import { join } from 'node:path';
import { type Daemon, spawnDaemon, waitUntilReady } from './daemon.ts';
import { findTool, freePort, queryDns } from './unbound.ts';

export interface RunningDnsmasq {
  port: number;
  daemon: Daemon;
}

/**
 * dnsmasq in the foreground on 127.0.0.1, forwarding to `upstreamPort` and answering from `serversFile` (the
 * agent's dnsmasq output) when one is given; ready once `probeName` gets any answer. Its pid file goes in `dir`.
 */
export async function startDnsmasq(options: {
  dir: string;
  upstreamPort: number;
  serversFile?: string;
  probeName?: string;
}): Promise<RunningDnsmasq> {
  const port = await freePort();
  const daemon = spawnDaemon(findTool('dnsmasq') ?? 'dnsmasq', [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--server=127.0.0.1#${options.upstreamPort}`,
    ...(options.serversFile ? [`--servers-file=${options.serversFile}`] : []),
    `--pid-file=${join(options.dir, 'dnsmasq.pid')}`,
    `--user=${userInfo().username}`,
    '--log-facility=-',
  ]);
  const answers = () =>
    queryDns(port, options.probeName ?? 'ok.test', 'A', 300).then(
      () => true,
      () => false,
    );
  await waitUntilReady(daemon, answers, 10_000, 50);
  return { port, daemon };
}
