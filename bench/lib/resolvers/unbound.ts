import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { checkConfig, spawnDaemon, waitUntilReady } from './daemon.ts';

// A real Unbound on 127.0.0.1 for tests, and a minimal DNS client to ask it (or any server) questions.

const run = promisify(execFile);

/** A zone in which every name resolves to 192.0.2.99: the internet for a resolver under test. */
export const INTERNET_ZONE =
  '$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n* A 192.0.2.99\n';

/** Absolute path of a program on PATH (or in the sbin directories), undefined when not installed. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/**
 * Why a test needing `tools` cannot run here, or undefined when all are installed. The reason is
 * printed and the caller skips, e.g. `describe.skipIf(missingTools(['unbound']))`; but under
 * CI=true a missing tool is an error unless `requiredInCi` is false (the CI image must have it).
 */
export function missingTools(tools: string[], { requiredInCi = true } = {}): string | undefined {
  const missing = tools.filter((tool) => findTool(tool) === undefined);
  if (missing.length === 0) return undefined;
  const reason = `not installed: ${missing.join(', ')}`;
  if (requiredInCi && process.env.CI === 'true') throw new Error(`${reason} (required when CI=true)`);
  console.warn(`skipping: ${reason}`);
  return reason;
}

/** A free TCP port on 127.0.0.1 that is also free for UDP (DNS listens on both). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

export type QueryType = 'A' | 'AAAA' | 'CNAME' | 'NS' | 'SOA' | 'TXT';
const TYPE_CODES: Record<QueryType, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28 };
const TYPE_NAMES = new Map(Object.entries(TYPE_CODES).map(([name, code]) => [code, name]));
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  /** A/AAAA: the address; CNAME/NS: the absolute name; others: hex of the RDATA. */
  data: string;
}

/** What `dig` would show: the status (`NOERROR`, `NXDOMAIN`, ...) and the answer section. */
export interface DnsResponse {
  status: string;
  answers: DnsAnswer[];
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function decodeName(message: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let offset = start;
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const length = message.readUInt8(offset);
    if (length === 0) {
      return { name: `${labels.join('.')}.`, end: end === -1 ? offset + 1 : end };
    }
    if ((length & 0xc0) === 0xc0) {
      if (end === -1) end = offset + 2;
      offset = message.readUInt16BE(offset) & 0x3fff;
    } else {
      labels.push(message.toString('ascii', offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
  }
  throw new Error('DNS name compression loop');
}

/** RFC 5952 text: the longest run (two or more) of zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

function decodeData(message: Buffer, type: number, start: number, length: number): string {
  if (type === 1) return [...message.subarray(start, start + 4)].join('.');
  if (type === 28) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(message.readUInt16BE(start + i).toString(16));
    return compressIpv6(groups);
  }
  if (type === 5 || type === 2) return decodeName(message, start).name;
  return message.toString('hex', start, start + length);
}

function parseResponse(message: Buffer): DnsResponse {
  const rcode = message.readUInt16BE(2) & 0x0f;
  const questions = message.readUInt16BE(4);
  const answerCount = message.readUInt16BE(6);
  let offset = 12;
  for (let i = 0; i < questions; i++) offset = decodeName(message, offset).end + 4;
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < answerCount; i++) {
    const { name, end } = decodeName(message, offset);
    const type = message.readUInt16BE(end);
    const ttl = message.readUInt32BE(end + 4);
    const length = message.readUInt16BE(end + 8);
    answers.push({
      name,
      type: TYPE_NAMES.get(type) ?? String(type),
      ttl,
      data: decodeData(message, type, end + 10, length),
    });
    offset = end + 10 + length;
  }
  return { status: RCODES[rcode] ?? String(rcode), answers };
}

/**
 * Sends `message` in one UDP datagram to 127.0.0.1:`port` and resolves with the first reply that `accept`
 * takes; rejects with `what` in the message after `timeoutMs`.
 */
export function udpExchange(
  port: number,
  message: Buffer,
  {
    timeoutMs = 3_000,
    accept = () => true,
    what = 'answer',
  }: { timeoutMs?: number; accept?: (reply: Buffer) => boolean; what?: string } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no ${what} from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('message', (reply) => {
      if (!accept(reply)) return;
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(message, port, '127.0.0.1');
  });
}

/** One recursive query over UDP to 127.0.0.1:`port`, like `dig @127.0.0.1 -p PORT name type`. */
export function queryDns(
  port: number,
  name: string,
  type: QueryType = 'A',
  timeoutMs = 3_000,
): Promise<DnsResponse> {
  const id = Math.floor(Math.random() * 0x10000);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const question = Buffer.concat([header, encodeName(name), Buffer.from([0, TYPE_CODES[type], 0, 1])]);
  return udpExchange(port, question, {
    timeoutMs,
    accept: (message) => message.readUInt16BE(0) === id,
    what: `DNS answer for ${name} ${type}`,
  }).then(parseResponse);
}

/**
 * An `auth-zone:` clause that makes Unbound answer `name` from `zonefile` as if an upstream server
 * did. Use it (not a `local-zone:`) for the "rest of the internet" in tests: local-zone answers are
 * given before the module stack, so RPZ never rewrites them. `name` needs a `local-zone: "NAME."
 * nodefault` when it is one of Unbound's built-in zones (`test.`, `invalid.`, ...).
 */
export function authZoneSnippet(name: string, zonefile: string): string {
  return `auth-zone:
  name: "${name}"
  zonefile: "${zonefile}"
  for-upstream: yes
  for-downstream: no
  fallback-enabled: no
`;
}

export interface UnboundOptions {
  /** Enable `remote-control` on a random port (needed for `unbound-control`). Default true. */
  control?: boolean;
  /** How long to wait for the first answer. Default 20 s. */
  startTimeoutMs?: number;
}

export interface RunningUnbound {
  port: number;
  controlPort?: number;
  /** Directory holding unbound.conf and the log; removed by `stop`. */
  dir: string;
  configPath: string;
  /** Shell command that reloads this instance (`unbound-control -c CONF reload`), when control is on. */
  reloadCommand?: string;
  query(name: string, type?: QueryType): Promise<DnsResponse>;
  /** Runs `unbound-control -c CONF ...args` and returns its stdout. */
  control(...args: string[]): Promise<string>;
  /** Everything Unbound logged so far. */
  log(): string;
  stop(): Promise<void>;
}

function baseConfig(dir: string, port: number): string {
  return `server:
  port: ${port}
  interface: 127.0.0.1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  do-daemonize: no
  use-syslog: no
  logfile: ""
  num-threads: 1
  do-not-query-localhost: no
`;
}

function controlConfig(port: number): string {
  return `remote-control:
  control-enable: yes
  control-interface: 127.0.0.1
  control-port: ${port}
  control-use-cert: no
`;
}

/**
 * Starts Unbound in the foreground on 127.0.0.1:random port with a minimal `server:` section,
 * followed by `configSnippets` (whole clauses: more `server:` settings, `rpz:`, `auth-zone:`, ...),
 * and waits until it answers. Checks the configuration with unbound-checkconf first.
 */
export async function startUnbound(
  configSnippets: string | string[],
  options: UnboundOptions = {},
): Promise<RunningUnbound> {
  // The free ports are picked before Unbound binds them: another process may win the race, so retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(Array.isArray(configSnippets) ? configSnippets : [configSnippets], options);
    } catch (error) {
      if (attempt === 3 || !/can't bind socket|Address already in use/i.test(String(error))) throw error;
    }
  }
}

async function startOnce(snippets: string[], options: UnboundOptions): Promise<RunningUnbound> {
  const dir = await mkdtemp(join(tmpdir(), 'unbound-'));
  const port = await freePort();
  const controlPort = options.control === false ? undefined : await freePort();
  const configPath = join(dir, 'unbound.conf');
  const config = [baseConfig(dir, port), ...snippets, controlPort ? controlConfig(controlPort) : ''].join(
    '\n',
  );
  await writeFile(configPath, config);
  await checkConfig(findTool('unbound-checkconf') ?? 'unbound-checkconf', configPath, config, dir, 'stderr');

  const daemon = spawnDaemon(findTool('unbound') ?? 'unbound', ['-d', '-c', configPath]);
  const stop = async () => {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // `localhost.` is one of Unbound's built-in local zones: it answers as soon as Unbound serves.
    const answers = () =>
      queryDns(port, 'localhost.', 'A', 200).then(
        () => true,
        () => false,
      );
    await waitUntilReady(daemon, answers, options.startTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }

  const controlTool = findTool('unbound-control') ?? 'unbound-control';
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  return {
    port,
    ...(controlPort
      ? { controlPort, reloadCommand: `${quote(controlTool)} -c ${quote(configPath)} reload` }
      : {}),
    dir,
    configPath,
    query: (name, type = 'A') => queryDns(port, name, type),
    control: async (...args) => (await run(controlTool, ['-c', configPath, ...args])).stdout,
    log: daemon.output,
    stop,
  };
}
