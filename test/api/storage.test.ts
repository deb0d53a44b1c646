import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { expectRefused, type TestHub, testApp } from '../helpers/hub.ts';

// Storage errors: a full registry answers 507 with nothing written; a busy one 503 with Retry-After.

let t: TestHub;
afterEach(() => t.close());

const order = (targets: string[]) => ({ reference: 'S/1', authority: 'MIC', category: 'malware', targets });

describe('a full registry', () => {
  it('answers 507 storage_full and writes nothing (a real SQLITE_FULL: max_page_count)', async () => {
    // A 1 MiB limit: the empty schema fits, 20 000 targets do not.
    t = await testApp({ config: { maxRegistryMiB: 1, approvalMaxTargets: 0 } });
    expect(
      (await t.call('POST', '/v1/orders', { as: 'regulator', json: order(['small.example']) })).status,
    ).toBe(201);
    const many = Array.from({ length: 20_000 }, (_, i) => `host-number-${i}.filling.example`);
    await expectRefused(
      t,
      () => t.call('POST', '/v1/orders', { as: 'regulator', json: order(many) }),
      507,
      'storage_full',
    );
    expect((await t.call('GET', '/v1/orders', { as: 'auditor' })).body.orders).toHaveLength(1);
    expect(t.hub.registry.verifyChain()).toEqual({ ok: true, rows: 1 });
    // Small writes still fit.
    expect(
      (await t.call('POST', '/v1/orders', { as: 'regulator', json: order(['next.example']) })).status,
    ).toBe(201);
  });
});

describe('a busy registry', () => {
  it('answers 503 with Retry-After while another process holds the write lock', async () => {
    t = await testApp();
    const other = new Database(t.dbPath);
    other.exec('BEGIN IMMEDIATE');
    try {
      const r = await expectRefused(
        t,
        () => t.call('POST', '/v1/orders', { as: 'regulator', json: order(['locked.example']) }),
        503,
        'import_in_progress',
      );
      expect(r.headers.get('retry-after')).toBe('5');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(
      (await t.call('POST', '/v1/orders', { as: 'regulator', json: order(['locked.example']) })).status,
    ).toBe(201);
  });
});
