import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authZoneSnippet, type RunningUnbound, startUnbound } from '../../../bench/lib/resolvers/unbound.ts';
import { renderToFile } from '../../../src/agent/render-to-file.ts';
import { resolveRenderOptions } from '../../../src/render/index.ts';
import { type HubProcess, newTokenText, REPO_ROOT, startHubProcess } from '../../helpers/hub.ts';

// Real programs wired together on loopback: `takedown serve`, Unbound loading the agent's RPZ file,
// and `takedown sync` between them. Shared by the end-to-end test and the latency benchmark.

const CLI_MAIN = join(REPO_ROOT, 'src/cli/main.ts');
const ZONE = 'rpz.takedown.';

/** The hub process with a regulator and a distributor token. */
export interface LiveHub {
  process: HubProcess;
  url: string;
  regulator: string;
  distributor: string;
  keyFile: string;
  /** A JSON call to the hub's API with a token. */
  // biome-ignore lint/suspicious/noExplicitAny: replies are JSON whose shape each test asserts
  call(method: string, path: string, token: string, json?: unknown): Promise<{ status: number; body: any }>;
}

export async function startLiveHub(dataDir: string): Promise<LiveHub> {
  const admin = newTokenText();
  const hub = await startHubProcess({ dataDir, adminToken: admin });
  const call = async (method: string, path: string, token: string, json?: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const token = async (role: string, name: string) => {
    const created = await call('POST', '/v1/tokens', admin, { role, name });
    if (created.status !== 201)
      throw new Error(`cannot create a ${role} token: ${JSON.stringify(created.body)}`);
    return created.body.token as string;
  };
  return {
    process: hub,
    url: hub.url,
    regulator: await token('regulator', 'e2e-regulator'),
    distributor: await token('distributor', 'isp-e2e'),
    keyFile: join(dataDir, 'keys', 'signing.pub'),
    call,
  };
}

/** Every name under `test.` resolves to this address, as if the rest of the internet answered. */
export const INTERNET_ADDRESS = '192.0.2.99';

/**
 * Unbound on a loopback port with the policy zone loaded from `rpzPath` (written empty first when the
 * agent has not rendered it yet) and `test.` answered as the rest of the internet. Its reload command
 * re-reads only the policy zone (`auth_zone_reload`), not the whole configuration.
 */
export async function startRpzUnbound(
  dir: string,
  rpzPath: string,
  createEmpty: boolean,
): Promise<RunningUnbound & { rpzReload: string }> {
  const internet = join(dir, 'internet.zone');
  await writeFile(
    internet,
    `$TTL 60\n@ SOA localhost. hostmaster.localhost. 1 60 60 604800 60\n@ NS localhost.\n* A ${INTERNET_ADDRESS}\n`,
  );
  if (createEmpty) await renderToFile(rpzPath, 'rpz', [], { version: 0, options: resolveRenderOptions() });
  const unbound = await startUnbound([
    'server:\n  module-config: "respip iterator"\n  local-zone: "test." nodefault\n',
    authZoneSnippet('test.', internet),
    `rpz:\n  name: "${ZONE}"\n  zonefile: "${rpzPath}"\n`,
  ]);
  const reload = unbound.reloadCommand;
  if (!reload) throw new Error('unbound started without remote control');
  return { ...unbound, rpzReload: reload.replace(/ reload$/, ` auth_zone_reload ${ZONE}`) };
}

/** A running `takedown sync` daemon; its stderr (JSON lines) is kept. */
export interface AgentProcess {
  child: ChildProcess;
  log(): string;
  stop(): Promise<number | null>;
}

export function spawnAgent(args: string[], token: string): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'sync', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, TAKEDOWN_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    child,
    log: () => log,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls until `name` answers with `status` (`NXDOMAIN`, `NOERROR`); false after `ms`. */
export async function answersWithin(
  unbound: RunningUnbound,
  name: string,
  status: string,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await unbound.query(name).catch(() => undefined);
    if (answer?.status === status) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
