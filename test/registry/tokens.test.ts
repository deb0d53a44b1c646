import { describe, expect, it } from 'vitest';
import { TOKEN_PREFIX } from '../../src/registry/index.ts';
import type { Store } from '../../src/registry/store.ts';
import { clock, must, rawDb, tempRegistry } from './helpers.ts';

describe('tokens', () => {
  it('returns a random prefixed token once and stores only its hash', () => {
    const { registry, path } = tempRegistry();
    const { id, token } = must(registry.createToken('regulator', 'ministry'));
    expect(token).toMatch(/^tdk_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(must(registry.createToken('regulator', 'other')).token).not.toBe(token);
    const stored = JSON.stringify(rawDb(path).prepare('SELECT * FROM tokens').all());
    expect(stored).not.toContain(token.slice(4));
    expect(registry.authenticate(token)).toEqual({ id, role: 'regulator', name: 'ministry' });
  });

  it('refuses unknown, malformed and revoked tokens', () => {
    const { registry } = tempRegistry();
    const { id, token } = must(registry.createToken('distributor', 'isp-1'));
    expect(registry.authenticate(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(registry.authenticate('Bearer x')).toBeNull();
    expect(registry.authenticate('')).toBeNull();
    expect(must(registry.revokeToken(id)).revokedAt).not.toBeNull();
    expect(registry.authenticate(token)).toBeNull();
    const again = registry.revokeToken(id);
    expect(!again.ok && again.error.code).toBe('conflict');
    const missing = registry.revokeToken(99);
    expect(!missing.ok && missing.error.code).toBe('not_found');
  });

  it('imports a given admin token, validates roles and names, and lists tokens without secrets', () => {
    const { registry } = tempRegistry();
    const fixed = `tdk_${'a'.repeat(43)}`;
    expect(must(registry.createToken('admin', 'bootstrap', fixed)).token).toBe(fixed);
    expect(registry.authenticate(fixed)?.role).toBe('admin');
    const dup = registry.createToken('admin', 'again', fixed);
    expect(!dup.ok && dup.error.code).toBe('conflict');
    const badRole = registry.createToken('root' as never, 'x');
    expect(!badRole.ok && badRole.error.code).toBe('invalid_input');
    const badToken = registry.createToken('admin', 'x', 'short');
    expect(!badToken.ok && badToken.error.code).toBe('invalid_input');
    expect(registry.listTokens()).toEqual([
      {
        id: 1,
        name: 'bootstrap',
        role: 'admin',
        createdAt: expect.any(String),
        revokedAt: null,
        lastUsedAt: expect.any(String),
      },
    ]);
  });

  it('refreshes last_used_at at most once a minute', () => {
    const c = clock('2025-01-01T00:00:00.000Z');
    const { registry } = tempRegistry({ now: c.now });
    const { token } = must(registry.createToken('auditor', 'audit'));
    registry.authenticate(token);
    c.set('2025-01-01T00:00:30.000Z');
    registry.authenticate(token);
    expect(registry.listTokens()[0]?.lastUsedAt).toBe('2025-01-01T00:00:00.000Z');
    c.set('2025-01-01T00:01:00.000Z');
    registry.authenticate(token);
    expect(registry.listTokens()[0]?.lastUsedAt).toBe('2025-01-01T00:01:00.000Z');
  });

  it('records last_used_at in the file without an fsync or a checkpoint on the request path, then syncs as before', () => {
    const c = clock('2025-01-01T00:00:00.000Z');
    const { registry, path } = tempRegistry({ now: c.now });
    const { token } = must(registry.createToken('auditor', 'audit'));
    const { store } = registry as unknown as { store: Store };
    const settings = () =>
      ['synchronous', 'wal_autocheckpoint'].map((name) => store.db.pragma(name, { simple: true }));
    let during: unknown;
    store.tryWrite(() => {
      during = settings();
    });
    // synchronous 1 is NORMAL (in WAL: no fsync at commit), 2 is FULL; wal_autocheckpoint 0: no checkpoint.
    expect(during).toEqual([1, 0]);
    expect(settings()).toEqual([2, 1000]);
    registry.authenticate(token);
    registry.close();
    const row = rawDb(path).prepare('SELECT last_used_at FROM tokens').get();
    expect(row).toEqual({ last_used_at: '2025-01-01T00:00:00.000Z' });
  });
});

describe('distributor reports', () => {
  it('keeps the latest report per token and feed for the compliance view', () => {
    const c = clock('2025-01-01T00:00:00.000Z');
    const { registry } = tempRegistry({ now: c.now });
    must(
      registry.createOrder(
        { reference: 'A', authority: 'X', category: 'malware', targets: ['a.example'] },
        'r',
      ),
    );
    must(
      registry.createOrder(
        { reference: 'B', authority: 'X', category: 'malware', targets: ['b.example'] },
        'r',
      ),
    );
    const isp = must(registry.createToken('distributor', 'isp-1')).id;
    const outputs = [{ format: 'rpz', entries: 2 }];
    must(registry.recordReport(isp, { feed: 'dns', version: 1, appliedAt: '2025-01-01T00:00:00Z', outputs }));
    c.set('2025-01-01T00:00:10.000Z');
    const latest = must(
      registry.recordReport(isp, {
        feed: 'dns',
        version: 2,
        appliedAt: new Date('2025-01-01T00:00:09Z'),
        outputs,
      }),
    );
    must(
      registry.recordReport(isp, { feed: 'url', version: 2, appliedAt: '2025-01-01T00:00:09Z', outputs: [] }),
    );
    expect(latest).toEqual({
      tokenId: isp,
      agentId: '',
      name: 'isp-1',
      tokenRevoked: false,
      feed: 'dns',
      version: 2,
      appliedAt: '2025-01-01T00:00:09.000Z',
      reportedAt: '2025-01-01T00:00:10.000Z',
      outputs,
      checkpoint: null,
    });
    expect(registry.listDistributors().map((d) => [d.feed, d.version])).toEqual([
      ['dns', 2],
      ['url', 2],
    ]);
    const future = registry.recordReport(isp, {
      feed: 'dns',
      version: 3,
      appliedAt: '2025-01-01T00:00:09Z',
      outputs,
    });
    expect(!future.ok && future.error.code).toBe('invalid_input');
    const unknown = registry.recordReport(42, {
      feed: 'dns',
      version: 1,
      appliedAt: '2025-01-01T00:00:09Z',
      outputs,
    });
    expect(!unknown.ok && unknown.error.code).toBe('not_found');
  });
});
