import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliRun,
  type HubProcess,
  newTokenText,
  runCli,
  startHubProcess,
  tempDir,
} from '../helpers/hub.ts';

// `takedown orders|entries|audit` through the real CLI, on a data directory and on a real hub process: the two
// must answer the same.

let dataDir: string;
let hub: HubProcess;
let regulator: string;
const admin = newTokenText();

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dataDir = await tempDir();
  hub = await startHubProcess({ dataDir, adminToken: admin });
  regulator = (await api('POST', '/v1/tokens', admin, { role: 'regulator', name: 'daily' })).body.token;
  for (const [reference, targets] of [
    ['CLI-A/1', ['cli-a.example', 'http://cli-b.example/x']],
    ['CLI-A/2', ['cli-c.example']],
    ['OTHER/9', ['cli-d.example']],
  ] as const) {
    const r = await api('POST', '/v1/orders', regulator, {
      reference,
      authority: 'MIC',
      category: 'phishing',
      targets,
    });
    expect(r.status).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const remote = (...args: string[]) => runCli([...args, '--hub', hub.url, '--token', regulator]);
const local = (...args: string[]) => runCli([...args, '--data', dataDir]);
const ok = (run: CliRun) => {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  return run.stdout;
};

describe('takedown orders', () => {
  it('lists orders as a table and as JSON, the same from the data directory and from the hub', async () => {
    const table = ok(await remote('orders', 'list'));
    const [header, ...lines] = table.trim().split('\n');
    expect(header).toMatch(/^id\s+reference\s+authority\s+category\s+status/);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^3\s+OTHER\/9\s+MIC\s+phishing\s+active\s+1/);

    const viaHub = JSON.parse(ok(await remote('orders', 'list', '--reference-prefix', 'CLI-A/', '--json')));
    const viaData = JSON.parse(ok(await local('orders', 'list', '--reference-prefix', 'CLI-A/', '--json')));
    expect(viaHub.orders.map((o: { reference: string }) => o.reference)).toEqual(['CLI-A/2', 'CLI-A/1']);
    expect(viaData).toEqual(viaHub);

    const paged = JSON.parse(ok(await remote('orders', 'list', '--limit', '2', '--json')));
    expect(paged.orders).toHaveLength(2);
    const rest = JSON.parse(ok(await remote('orders', 'list', '--cursor', paged.nextCursor, '--json')));
    expect(rest.orders.map((o: { id: number }) => o.id)).toEqual([1]);
    const none = JSON.parse(ok(await local('orders', 'list', '--since', '2999-01-01', '--json')));
    expect(none.orders).toEqual([]);
  });

  it('shows one order with its entries', async () => {
    const shown = ok(await remote('orders', 'show', '1'));
    expect(shown).toContain('order 1  CLI-A/1  (MIC, phishing, block)');
    expect(shown).toMatch(/cli-a\.example\/\s+domain\s+true\s+active/);
    expect(shown).toMatch(/cli-b\.example\/x\s+url/);
  });

  it('revokes through the hub and extends through the data directory; each write is seen by the other side', async () => {
    const revoked = ok(await remote('orders', 'revoke', '2', '--reason', 'court ruling lifted it'));
    expect(revoked).toMatch(/^revoked order 2: version \d+, 1 removed/);
    const order = JSON.parse(ok(await local('orders', 'show', '2', '--json'))).order;
    expect(order).toMatchObject({ status: 'revoked', revokeReason: 'court ruling lifted it' });

    ok(await local('orders', 'extend', '3', '--expires', '2099-12-31T00:00:00Z', '--reason', 'renewed'));
    const seen = await api('GET', '/v1/orders/3', regulator);
    expect(seen.body.order.expiresAt).toBe('2099-12-31T00:00:00.000Z');

    const again = await remote('orders', 'revoke', '2', '--reason', 'twice');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/conflict/);
  });

  it('refuses bad usage with exit 2 and a hub refusal with exit 1, naming the cause', async () => {
    const noReason = await remote('orders', 'revoke', '1');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const badStatus = await remote('orders', 'list', '--status', 'sleeping');
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/status/);
    const both = await runCli(['orders', 'list', '--data', dataDir, '--hub', hub.url, '--token', regulator]);
    expect(both.code).toBe(2);
    const badToken = await runCli(['orders', 'list', '--hub', hub.url, '--token', newTokenText()]);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/unauthorized/);
    const missing = await remote('orders', 'show', '999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not_found/);
  });
});

describe('takedown entries search', () => {
  it('finds entries by prefix and activity, the same both ways, and reads TAKEDOWN_HUB/TAKEDOWN_TOKEN', async () => {
    const table = ok(await remote('entries', 'search', '--prefix', 'cli-'));
    expect(table.trim().split('\n')).toHaveLength(5);
    const viaEnv = await runCli(['entries', 'search', '--active', 'false', '--json'], {
      env: { TAKEDOWN_HUB: hub.url, TAKEDOWN_TOKEN: regulator },
    });
    const inactive = JSON.parse(ok(viaEnv));
    expect(inactive.entries.map((e: { expression: string }) => e.expression)).toEqual(['cli-c.example/']);
    const viaData = JSON.parse(ok(await local('entries', 'search', '--active', 'false', '--json')));
    expect(viaData).toEqual(inactive);
  });
});

describe('takedown audit', () => {
  it('exports the change log as CSV and JSON lines, identical from the hub and the data directory', async () => {
    const auditor = (await api('POST', '/v1/tokens', admin, { role: 'auditor', name: 'export' })).body.token;
    const changes = (await api('GET', '/v1/audit?limit=1000', auditor)).body.changes;
    const csvOut = join(dataDir, 'audit.csv');
    const fromHub = await runCli([
      'audit',
      'export',
      '--format',
      'csv',
      '--out',
      csvOut,
      '--hub',
      hub.url,
      '--token',
      auditor,
    ]);
    expect(fromHub.code).toBe(0);
    expect(fromHub.stderr).toBe(`wrote ${changes.length} changes to ${csvOut}\n`);
    const csv = await readFile(csvOut, 'utf8');
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe(
      'seq,version,op,expression,kind,category,action,orderId,orderRef,actor,note,reason,release,approval,prevHash,hash',
    );
    expect(rows).toHaveLength(changes.length + 1);
    expect(rows.some((r) => r.includes('court ruling lifted it'))).toBe(true);
    expect(ok(await local('audit', 'export', '--format', 'csv'))).toBe(csv);

    const jsonl = ok(
      await runCli(['audit', 'export', '--format', 'jsonl', '--hub', hub.url, '--token', auditor]),
    );
    const lines = jsonl
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.hash)).toEqual(changes.map((c: { hash: string }) => c.hash));
    expect(ok(await local('audit', 'export', '--format', 'jsonl'))).toBe(jsonl);

    const verify = ok(await runCli(['audit', 'verify', '--hub', hub.url, '--token', auditor]));
    expect(verify).toMatch(/^change log ok: \d+ rows, chain intact \(registry version \d+\)/);
  });
});
