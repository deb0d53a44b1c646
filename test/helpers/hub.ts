import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { MALLOC_TUNING } from '../../src/cli/malloc-tuning.ts';
import { type HubConfigInput, loadHubConfig } from '../../src/hub/config.ts';
import { createHub, type Hub } from '../../src/hub/hub.ts';
import type { TokenRole } from '../../src/registry/types.ts';

// The hub for API, CLI and end-to-end tests: in-process (`testApp`) or as the real `takedown` program.

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI_MAIN = join(REPO_ROOT, 'src/cli/main.ts');
const ROLES: readonly TokenRole[] = ['admin', 'regulator', 'auditor', 'distributor'];

/** A fresh token text of the shape the registry accepts (`tdk_` + 43 base64url characters). */
export const newTokenText = () => `tdk_${randomBytes(32).toString('base64url')}`;

/** A fresh temporary directory; remove it with `rm(dir, { recursive: true, force: true })`. */
export const tempDir = (prefix = 'takedown-test-') => mkdtemp(join(tmpdir(), prefix));

// biome-ignore lint/suspicious/noExplicitAny: replies are JSON whose shape each test asserts
export interface ApiReply<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the reply is JSON, else the text. */
  body: T;
}

export interface CallOptions {
  /** Send the token of this role. */
  as?: TokenRole;
  /** Send this token text instead (e.g. a revoked or unknown one). */
  token?: string;
  /** A JSON body (sent with content-type application/json). */
  json?: unknown;
  /** A raw body; set the content type yourself through `headers`. */
  body?: string;
  headers?: Record<string, string>;
}

export interface TestHub {
  hub: Hub;
  dataDir: string;
  dbPath: string;
  /** A live token of every role; `admin` is the first admin token. */
  tokens: Record<TokenRole, string>;
  tokenIds: Record<TokenRole, number>;
  /** The hub's structured log lines so far (`event` and fields). */
  logs: Array<Record<string, unknown>>;
  call(method: string, path: string, options?: CallOptions): Promise<ApiReply>;
  /** The registry version as `GET /healthz` reports it. */
  version(): Promise<number>;
  close(): Promise<void>;
}

async function reply(res: Response): Promise<ApiReply> {
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  return { status: res.status, headers: res.headers, body: json ? JSON.parse(text) : text };
}

/**
 * The hub built in-process by `createHub` (the real composition, expiry timer included) on a registry in a
 * temporary data directory, with a token of every role. Requests go through `app.request`, no socket.
 */
export async function testApp(
  options: { bodyLimit?: number; config?: Partial<HubConfigInput> } = {},
): Promise<TestHub> {
  const dataDir = await tempDir();
  const admin = newTokenText();
  const config = loadHubConfig({
    ...options.config,
    dataDir,
    adminToken: admin,
    bodyLimit: options.bodyLimit,
  });
  const logs: Array<Record<string, unknown>> = [];
  const hub = await createHub(config, (event, fields) => logs.push({ event, ...fields }));
  const tokens = { admin } as Record<TokenRole, string>;
  const tokenIds = { admin: 1 } as Record<TokenRole, number>;
  for (const role of ROLES.slice(1)) {
    const created = hub.registry.createToken(role, `test-${role}`);
    if (!created.ok) throw new Error(created.error.message);
    tokens[role] = created.value.token;
    tokenIds[role] = created.value.id;
  }
  const call = async (method: string, path: string, o: CallOptions = {}) => {
    const headers: Record<string, string> = {};
    const token = o.token ?? (o.as ? tokens[o.as] : undefined);
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (o.json !== undefined) headers['content-type'] = 'application/json';
    const body = o.json !== undefined ? JSON.stringify(o.json) : o.body;
    return reply(await hub.app.request(path, { method, headers: { ...headers, ...o.headers }, body }));
  };
  return {
    hub,
    dataDir,
    dbPath: config.dbPath,
    tokens,
    tokenIds,
    logs,
    call,
    async version() {
      const r = await call('GET', '/healthz');
      expect(r.status).toBe(200);
      return r.body.version as number;
    },
    async close() {
      await hub.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts the error envelope `{"error": {"code", "message", "details"?}}` with this status and code. */
export function expectError(r: ApiReply, status: number, code: string) {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(r.body)).toEqual(['error']);
  for (const key of Object.keys(r.body.error)) expect(['code', 'message', 'details']).toContain(key);
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.message.length).toBeGreaterThan(0);
}

/** Sends a write that must be refused: the status, the envelope, and a registry version that did not move. */
export async function expectRefused(
  t: TestHub,
  send: () => Promise<ApiReply>,
  status: number,
  code: string,
): Promise<ApiReply> {
  const before = await t.version();
  const r = await send();
  expectError(r, status, code);
  expect(await t.version()).toBe(before);
  return r;
}

/** Polls `probe` until it returns a value other than undefined; fails after `ms`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The environment of a spawned `takedown`: ours without any TAKEDOWN_* setting, plus the allocator settings (so
 * that `serve` does not run itself again: the process a test signals is the hub), plus `env`.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TAKEDOWN_')) out[k] = v;
  return { ...MALLOC_TUNING, ...out, ...env };
}

const spawnCli = (args: string[], env: Record<string, string>) =>
  spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], { cwd: REPO_ROOT, env: childEnv(env) });

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `takedown ARGS...` to completion (optionally feeding `input` on standard input). */
export function runCli(
  args: string[],
  options: { input?: string | Buffer; env?: Record<string, string> } = {},
) {
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawnCli(args, options.env ?? {});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface HubProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** The admin token printed on a first start, else null. */
  printedAdminToken: string | null;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const LISTENING = /takedown hub listening on (http:\/\/127\.0\.0\.1:(\d+))/;
const PRINTED_TOKEN = /admin token[^\n]*\n\s*(tdk_[A-Za-z0-9_-]{43})/;

/**
 * Spawns `takedown serve --port 0 --data DIR` on loopback and resolves once it prints its listening line (the
 * port comes from that line). `adminToken` goes in TAKEDOWN_ADMIN_TOKEN.
 */
export function startHubProcess(options: {
  dataDir: string;
  adminToken?: string;
  args?: string[];
  env?: Record<string, string>;
}): Promise<HubProcess> {
  const env: Record<string, string> = {
    ...options.env,
    ...(options.adminToken ? { TAKEDOWN_ADMIN_TOKEN: options.adminToken } : {}),
  };
  const serve = ['serve', '--host', '127.0.0.1', '--port', '0', '--data', options.dataDir];
  const child = spawnCli([...serve, ...(options.args ?? [])], env);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise<HubProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`takedown serve did not start in time; output:\n${out}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = LISTENING.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        child,
        url: m[1] as string,
        port: Number(m[2]),
        printedAdminToken: PRINTED_TOKEN.exec(out)?.[1] ?? null,
        output: () => out,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => {
      out += d;
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`takedown serve exited (${code ?? signal}) before listening; output:\n${out}`));
    });
  });
}
