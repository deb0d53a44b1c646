/**
 * `npm run dev:edge`: the edge worker under `wrangler dev` (local workerd, local bucket under .wrangler/)
 * against a local hub. It fills in what a first try lacks: the hub's public keys (from GET /v1/keys), a
 * distributor token (minted with TAKEDOWN_ADMIN_TOKEN when HUB_TOKEN is not given) and, without ORIGIN, a
 * tiny echo origin, so passed requests show where they went.
 *
 * Environment: HUB_URL (default http://127.0.0.1:8787), HUB_TOKEN or TAKEDOWN_ADMIN_TOKEN, TRUSTED_KEYS,
 * ORIGIN, FAIL_MODE, BLOCKED_BY, REFRESH_SECONDS (default 5), EDGE_PORT (default 8788). Extra arguments go
 * to wrangler.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REPO_ROOT, WRANGLER, WRANGLER_ENV } from './wrangler-env.ts';

const env = process.env;
const hubUrl = env.HUB_URL ?? 'http://127.0.0.1:8787';

async function hubJson(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const r = await fetch(new URL(path, hubUrl), init).catch((error: Error) => {
    throw new Error(`cannot reach the hub at ${hubUrl} (${error.message}); start it with \`npm start\``);
  });
  const body = (await r.json()) as Record<string, unknown>;
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

async function trustedKeys(): Promise<string> {
  if (env.TRUSTED_KEYS) return env.TRUSTED_KEYS;
  const { keys } = (await hubJson('/v1/keys')) as { keys: { publicKey: string }[] };
  return keys.map((k) => k.publicKey).join(',');
}

async function hubToken(): Promise<string> {
  if (env.HUB_TOKEN) return env.HUB_TOKEN;
  const admin = env.TAKEDOWN_ADMIN_TOKEN;
  if (!admin) throw new Error('set HUB_TOKEN (a distributor token) or TAKEDOWN_ADMIN_TOKEN to mint one');
  const created = await hubJson('/v1/tokens', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'distributor', name: `edge-dev-${Date.now()}` }),
  });
  console.log(`dev-edge: minted distributor token ${created.id} for the worker`);
  return created.token as string;
}

/** An origin that answers every request with what reached it. */
async function echoOrigin(): Promise<string> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`origin says: ${req.method} ${req.url} reached the origin (Host: ${req.headers.host})\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function main(): Promise<void> {
  const vars: Record<string, string> = {
    HUB_URL: hubUrl,
    HUB_TOKEN: await hubToken(),
    TRUSTED_KEYS: await trustedKeys(),
    ORIGIN: env.ORIGIN ?? (await echoOrigin()),
    REFRESH_SECONDS: env.REFRESH_SECONDS ?? '5',
  };
  for (const name of ['FAIL_MODE', 'BLOCKED_BY', 'APPEAL_URL'] as const) {
    const value = env[name];
    if (value) vars[name] = value;
  }
  const port = env.EDGE_PORT ?? '8788';
  console.log(`dev-edge: worker on http://127.0.0.1:${port}, hub ${hubUrl}, origin ${vars.ORIGIN}`);
  const args = [
    WRANGLER,
    'dev',
    '--local',
    '--ip',
    '127.0.0.1',
    '--port',
    port,
    '--test-scheduled',
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
    ...process.argv.slice(2),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...env, ...WRANGLER_ENV },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  process.exitCode = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 0)));
}

main().catch((error: Error) => {
  console.error(`dev-edge: ${error.message}`);
  process.exitCode = 1;
});
