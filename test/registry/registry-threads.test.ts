import { describe, expect, it } from 'vitest';
import { RegistryThreads } from '../../src/registry/registry-threads.ts';
import { WorkerTaskError } from '../../src/util/ts-worker.ts';
import { must, rawDb, tempRegistry } from './helpers.ts';

// The whole-list operations the hub runs in a worker thread: the same registry methods on the worker's
// own connection, with the same results, and their writes visible to the hub's connection at once.

const order = (reference: string, targets: string[], expiresAt?: string) => ({
  reference,
  authority: 'Authority',
  category: 'phishing' as const,
  targets,
  ...(expiresAt && { expiresAt }),
});

describe('RegistryThreads', () => {
  it('verifies the chain on a read-only connection and names a broken row like the inline audit', async () => {
    const { registry, path } = tempRegistry();
    must(registry.createOrder(order('A', ['a.example', 'b.example']), 'alice'));
    const threads = new RegistryThreads(path);
    expect(await threads.verifyChain()).toEqual(registry.verifyChain());
    expect(await threads.verifyChain()).toMatchObject({ ok: true, rows: 2 });
    registry.close();
    const db = rawDb(path);
    db.exec('DROP TRIGGER changes_no_update;');
    db.prepare("UPDATE changes SET expression = 'c.example/' WHERE seq = 2").run();
    db.close();
    expect(await threads.verifyChain()).toEqual({ ok: false, rows: 1, brokenAt: 2, reason: 'hash_mismatch' });
  });

  it('counts active domain entries under registrable domains like the inline count, zeros and look-alikes included', async () => {
    const { registry, path } = tempRegistry();
    const targets = ['a.crowded.example', 'b.a.crowded.example', 'crowded.example', 'notcrowded.example'];
    const created = must(
      registry.createOrder(order('A', [...targets, 'crowded.example/path', 'x.other.vn']), 'alice'),
    );
    must(registry.createOrder(order('B', ['c.crowded.example']), 'alice'));
    const threads = new RegistryThreads(path);
    const domains = ['crowded.example', 'other.vn', 'empty.example'];
    const counted = new Map(await threads.countEntriesUnder(domains));
    expect(counted).toEqual(
      new Map([
        ['crowded.example', 4],
        ['other.vn', 1],
        ['empty.example', 0],
      ]),
    );
    expect(new Map(registry.countEntriesUnder(domains))).toEqual(counted);
    must(registry.revokeOrder(created.order.id, 'issued in error', 'bob'));
    expect(new Map(await threads.countEntriesUnder(domains)).get('crowded.example')).toBe(1);
  });

  it('revokes an order in one version the hub connection sees, and answers a refusal as a value', async () => {
    const { registry, path } = tempRegistry();
    const created = must(registry.createOrder(order('A', ['a.example', 'b.example']), 'alice'));
    const threads = new RegistryThreads(path);
    expect(await threads.revokeOrder(created.order.id, 'issued in error', 'bob')).toEqual({
      ok: true,
      value: { version: 2, adds: 0, removes: 2 },
    });
    expect(registry.currentVersion()).toBe(2);
    expect(must(registry.getOrder(created.order.id)).order).toMatchObject({
      status: 'revoked',
      endedVersion: 2,
    });
    expect(await threads.revokeOrder(99, 'no such order', 'bob')).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(registry.currentVersion()).toBe(2);
  });

  it('expires what is due in one version, and nothing when nothing is', async () => {
    const { registry, path } = tempRegistry();
    must(registry.createOrder(order('A', ['a.example'], '2030-01-01T00:00:00.000Z'), 'alice'));
    const threads = new RegistryThreads(path);
    expect(await threads.expireDue(new Date('2029-12-31T00:00:00.000Z'))).toBeNull();
    expect(await threads.expireDue(new Date('2030-01-02T00:00:00.000Z'))).toMatchObject({
      version: 2,
      removes: 1,
      orders: [1],
    });
    expect(registry.getEntry('a.example/')).toMatchObject({ active: false });
  });

  it("rejects with the worker's reason when the database cannot be opened", async () => {
    await expect(new RegistryThreads('/nonexistent/takedown.db').verifyChain()).rejects.toThrow(
      WorkerTaskError,
    );
  });
});
