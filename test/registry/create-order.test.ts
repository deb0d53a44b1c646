import { describe, expect, it } from 'vitest';
import { clock, counts, must, tempRegistry } from './helpers.ts';

const order = (targets: string[], extra: Record<string, unknown> = {}) => ({
  reference: '5167/BTTTT-CATTT',
  authority: 'Authority of Information Security',
  category: 'phishing' as const,
  targets,
  ...extra,
});

describe('createOrder', () => {
  it('writes the order, its entries and one version, and reports each target', () => {
    const { registry } = tempRegistry();
    const created = must(
      registry.createOrder(
        order(['evil.example', 'https://EVIL.example/login.php?x=1', 'evil.example.']),
        'alice',
      ),
    );
    expect(created.version).toBe(1);
    expect(registry.currentVersion()).toBe(1);
    expect(created.results).toEqual([
      { target: 'evil.example', kind: 'domain', expression: 'evil.example/', status: 'added' },
      {
        target: 'https://EVIL.example/login.php?x=1',
        kind: 'url',
        expression: 'evil.example/login.php?x=1',
        status: 'added',
      },
      { target: 'evil.example.', kind: 'domain', expression: 'evil.example/', status: 'duplicate' },
    ]);
    expect(created.order).toMatchObject({
      id: 1,
      reference: '5167/BTTTT-CATTT',
      category: 'phishing',
      action: 'block',
      status: 'active',
      createdBy: 'alice',
      version: 1,
      entryCount: 2,
      override: null,
    });
    expect(registry.getEntry('evil.example/')).toMatchObject({
      kind: 'domain',
      host: 'evil.example',
      registrableDomain: 'evil.example',
      active: true,
      category: 'phishing',
      orderId: 1,
      firstVersion: 1,
    });
    expect(registry.versionInfo(1)).toMatchObject({ kind: 'order', actor: 'alice', adds: 2, removes: 0 });
  });

  it('writes nothing when any target is rejected, and returns every target result', () => {
    const { registry, path } = tempRegistry();
    must(registry.createOrder(order(['first.example']), 'alice'));
    const before = counts(path);
    const r = registry.createOrder(
      order([
        'ok.example',
        'co.uk',
        'www.google.com',
        '203.0.113.7',
        'http://[::1]/',
        'bad host',
        'ok.example',
      ]),
      'alice',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('targets_rejected');
    expect(r.error.details?.map((d) => [d.target, d.status, d.code])).toEqual([
      ['ok.example', 'accepted', undefined],
      ['co.uk', 'rejected', 'public_suffix'],
      ['www.google.com', 'rejected', 'protected_domain'],
      ['203.0.113.7', 'rejected', 'ip_literal'],
      ['http://[::1]/', 'rejected', 'ip_literal'],
      ['bad host', 'rejected', expect.any(String)],
      ['ok.example', 'duplicate', undefined],
    ]);
    expect(r.error.details?.[2]?.message).toContain("protected domain 'google.com'");
    expect(registry.currentVersion()).toBe(1);
    expect(counts(path)).toEqual(before);
  });

  it('treats private public suffixes and protected parents as rails too', () => {
    const { registry } = tempRegistry();
    const r = registry.createOrder(order(['github.io', 'gov', 'ministry.gov', 'user.github.io']), 'alice');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.details?.map((d) => d.code ?? d.status)).toEqual([
      'public_suffix',
      'public_suffix',
      'protected_domain',
      'accepted',
    ]);
    expect(r.error.details?.[1]?.rails).toEqual(['public_suffix', 'protected_domain']);
  });

  it('accepts IP hosts in URL entries with a path (HTTP consumers only)', () => {
    const { registry } = tempRegistry();
    const created = must(registry.createOrder(order(['http://203.0.113.7/phish/login']), 'alice'));
    expect(created.results[0]).toMatchObject({
      kind: 'url',
      expression: '203.0.113.7/phish/login',
      status: 'added',
    });
  });

  it('accepts tripped rails with an override and audits it in the order and the change log', () => {
    const { registry } = tempRegistry();
    const created = must(
      registry.createOrder(
        order(['co.uk', 'mail.google.com', 'plain.example'], { override: { reason: 'court order 12/2025' } }),
        'alice',
      ),
    );
    expect(created.results.map((r) => [r.status, r.rails])).toEqual([
      ['added', ['public_suffix']],
      ['added', ['protected_domain']],
      ['added', undefined],
    ]);
    expect(created.order.override).toEqual({
      reason: 'court order 12/2025',
      actor: 'alice',
      rails: ['public_suffix', 'protected_domain'],
      targets: ['co.uk/', 'mail.google.com/'],
    });
    const log = must(registry.listChanges({})).items;
    expect(log.map((c) => [c.expression, c.actor, c.note ? JSON.parse(c.note) : ''])).toEqual([
      ['co.uk/', 'alice', { override: ['public_suffix'], reason: 'court order 12/2025' }],
      ['mail.google.com/', 'alice', { override: ['protected_domain'], reason: 'court order 12/2025' }],
      ['plain.example/', 'alice', ''],
    ]);
    expect(registry.verifyChain().ok).toBe(true);
  });

  it('never overrides a target that does not parse', () => {
    const { registry } = tempRegistry();
    const r = registry.createOrder(order(['bad host', 'ok.example'], { override: { reason: 'x' } }), 'alice');
    expect(!r.ok && r.error.code).toBe('targets_rejected');
  });

  it('validates the order fields', () => {
    const c = clock('2025-06-01T00:00:00.000Z');
    const { registry } = tempRegistry({ now: c.now });
    const code = (extra: Record<string, unknown>, targets = ['a.example']) => {
      const r = registry.createOrder(order(targets, extra) as never, 'alice');
      return r.ok ? 'ok' : r.error.code;
    };
    expect(code({ reference: ' ' })).toBe('invalid_input');
    expect(code({ category: 'spam' })).toBe('invalid_input');
    expect(code({ action: 'nxdomain' })).toBe('invalid_input');
    expect(code({ expiresAt: 'tomorrow' })).toBe('invalid_input');
    expect(code({ expiresAt: '2025-05-01T00:00:00Z' })).toBe('invalid_input');
    expect(code({ override: { reason: '' } })).toBe('invalid_input');
    expect(code({}, [])).toBe('invalid_input');
    expect(registry.currentVersion()).toBe(0);
    expect(code({ action: 'redirect', expiresAt: '2025-07-01T00:00:00+07:00', issuedAt: '2025-05-30' })).toBe(
      'ok',
    );
    expect(must(registry.getOrder(1)).order).toMatchObject({
      action: 'redirect',
      // A bare date is read in the registry's zone (default Asia/Ho_Chi_Minh, UTC+7): issued from its start.
      issuedAt: '2025-05-29T17:00:00.000Z',
      expiresAt: '2025-06-30T17:00:00.000Z',
      createdAt: '2025-06-01T00:00:00.000Z',
    });
  });

  it('lands 100 000 targets in one version', () => {
    const { registry } = tempRegistry();
    const targets = Array.from({ length: 100_000 }, (_, i) => `host-${i}.example`);
    const created = must(registry.createOrder(order(targets), 'alice'));
    expect(created.adds).toBe(100_000);
    expect(created.order.entryCount).toBe(100_000);
    expect(registry.currentVersion()).toBe(1);
    expect(registry.versionInfo(1)).toMatchObject({ adds: 100_000, firstSeq: 1, lastSeq: 100_000 });
  });
});

describe('matchExpressions', () => {
  it('returns the active entries among the expressions with their active orders, oldest first', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order(['evil.example', 'evil.example/phish/']), 'alice'));
    must(registry.createOrder({ ...order(['evil.example']), reference: 'B/2', category: 'malware' }, 'bob'));
    const matches = registry.matchExpressions([
      'x.evil.example/',
      'evil.example/',
      'evil.example/phish/',
      'evil.example/',
    ]);
    expect(matches.map((m) => [m.entry.expression, m.orders.map((o) => o.reference)])).toEqual([
      ['evil.example/', ['5167/BTTTT-CATTT', 'B/2']],
      ['evil.example/phish/', ['5167/BTTTT-CATTT']],
    ]);
    expect(matches[0]?.entry.category).toBe('phishing');
    expect(registry.matchExpressions([])).toEqual([]);
  });
});
