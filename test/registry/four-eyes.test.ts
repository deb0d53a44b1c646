import { describe, expect, it } from 'vitest';
import { clock, must, tempRegistry } from './helpers.ts';

// Pending orders nobody decides on lapse after the configured time, without a version.

describe('pending orders', () => {
  it('expire after pendingTtlHours: no version, no approval any more, and the expiry timer knows when', () => {
    const c = clock('2026-01-01T00:00:00.000Z');
    const { registry } = tempRegistry({ now: c.now, fourEyes: { maxTargets: 1, pendingTtlHours: 72 } });
    const created = must(
      registry.createOrder(
        { reference: 'P', authority: 'MIC', category: 'fraud', targets: ['a.example', 'b.example'] },
        'alice',
      ),
    );
    expect(created.order).toMatchObject({
      status: 'pending',
      approval: { expiresAt: '2026-01-04T00:00:00.000Z' },
    });
    expect(registry.currentVersion()).toBe(0);
    expect(registry.nextExpiry()?.toISOString()).toBe('2026-01-04T00:00:00.000Z');
    c.set('2026-01-04T00:00:00.001Z');
    const late = registry.approveOrder(created.order.id, 'sorry, late', 'bob');
    expect(!late.ok && late.error.code).toBe('approval_expired');
    expect(must(registry.getOrder(created.order.id)).order).toMatchObject({
      status: 'expired',
      approval: { decision: 'expired' },
    });
    expect(registry.currentVersion()).toBe(0);
    expect(registry.expireDue()).toBeNull();
    expect(registry.nextExpiry()).toBeNull();
  });

  it('are swept by expireDue like active orders', () => {
    const c = clock('2026-01-01T00:00:00.000Z');
    const { registry } = tempRegistry({ now: c.now, fourEyes: { maxTargets: 1, pendingTtlHours: 1 } });
    const { order } = must(
      registry.createOrder(
        { reference: 'P', authority: 'M', category: 'fraud', targets: ['a.ex', 'b.ex'] },
        'al',
      ),
    );
    c.set('2026-01-01T02:00:00.000Z');
    expect(registry.expireDue()).toBeNull();
    expect(must(registry.getOrder(order.id)).order.status).toBe('expired');
    expect(registry.currentVersion()).toBe(0);
  });
});

describe('decision rows and net changes', () => {
  it('leaves decision rows out of the net changes feeds are built from', () => {
    const { registry } = tempRegistry({ fourEyes: { maxTargets: 1 } });
    must(
      registry.createOrder(
        { reference: 'A', authority: 'M', category: 'fraud', targets: ['a.example'] },
        'x',
      ),
    );
    must(registry.revokeOrder(1, 'false positive', 'x', { release: true }));
    must(registry.unrelease('a.example', 'sold to a phisher', 'y'));
    must(
      registry.createOrder(
        { reference: 'B', authority: 'M', category: 'malware', targets: ['a.example'] },
        'x',
      ),
    );
    must(registry.extendOrder(2, '2099-01-01', 'x', 'longer'));
    const p = must(
      registry.createOrder(
        { reference: 'C', authority: 'M', category: 'csam', targets: ['c.ex', 'd.ex'] },
        'x',
      ),
    );
    must(registry.rejectOrder(p.order.id, 'no', 'y'));
    expect([...registry.netChanges(1, registry.currentVersion())]).toEqual([
      { op: 'remove', expression: 'a.example/', kind: 'domain', category: 'fraud', action: 'block' },
      { op: 'add', expression: 'a.example/', kind: 'domain', category: 'malware', action: 'block' },
    ]);
    expect([...registry.netChanges(0, registry.currentVersion())]).toEqual([
      { op: 'add', expression: 'a.example/', kind: 'domain', category: 'malware', action: 'block' },
    ]);
  });
});
