import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/registry/migrate.ts';
import { openRegistry } from '../../src/registry/registry.ts';
import { tempDir, tempRegistry } from './helpers.ts';

// Probe plans and the prober role on a real SQLite registry with its own clock.

const actor = 'token:1:test';

describe('probe plans', () => {
  it('samples active entries by seed once nothing is new: same seed, same sample', () => {
    let now = new Date('2026-03-01T00:00:00Z');
    const { registry } = tempRegistry({ now: () => now });
    const token = registry.createToken('prober', 'probe');
    if (!token.ok) throw new Error(token.error.message);
    const targets = Array.from({ length: 40 }, (_, i) => `n${i}.test`);
    expect(
      registry.createOrder({ reference: 'r', authority: 'a', category: 'malware', targets }, actor).ok,
    ).toBe(true);
    now = new Date('2026-03-02T01:00:00Z');
    const sample = (seed: string) => {
      const plan = registry.probes.createPlan(token.value.id, {
        budget: 10,
        perEntry: 1,
        seed,
        confidential: [],
      });
      if (!plan.ok) throw new Error(plan.error.message);
      expect(plan.value.entries.every((e) => e.reason === 'sample' && e.since === null)).toBe(true);
      return plan.value.entries.map((e) => e.expression);
    };
    const first = sample('s1');
    expect(first).toHaveLength(10);
    expect(new Set(first).size).toBe(10);
    expect(sample('s1')).toEqual(first);
    expect(sample('s2')).not.toEqual(first);
  });

  it('never plans a confidential category, even as a sample', () => {
    let now = new Date('2026-03-01T00:00:00Z');
    const { registry } = tempRegistry({ now: () => now });
    const token = registry.createToken('prober', 'probe');
    if (!token.ok) throw new Error(token.error.message);
    registry.createOrder(
      { reference: 'r', authority: 'a', category: 'csam', targets: ['c.test', 'd.test'] },
      actor,
    );
    const fresh = registry.probes.createPlan(token.value.id, {
      budget: 10,
      perEntry: 1,
      confidential: ['csam'],
    });
    now = new Date('2026-03-05T00:00:00Z');
    const later = registry.probes.createPlan(token.value.id, {
      budget: 10,
      perEntry: 1,
      confidential: ['csam'],
    });
    expect(fresh.ok && fresh.value.entries).toEqual([]);
    expect(later.ok && later.value.entries).toEqual([]);
  });
});

describe('the prober role migration', () => {
  it('rebuilds the tokens table of an existing registry and keeps its distributors', () => {
    const dir = tempDir();
    const old = join(dir, 'migrations');
    mkdirSync(old);
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, '001_init.sql'), join(old, '001_init.sql'));
    const path = join(dir, 'registry.db');
    const before = openRegistry(path, { migrationsDir: old, protectedDomainsFile: null });
    const isp = before.createToken('distributor', 'isp');
    if (!isp.ok) throw new Error(isp.error.message);
    before.close();
    // A report as the code of that schema wrote it (today's code writes columns later migrations add).
    const raw = new Database(path);
    raw
      .prepare(
        `INSERT INTO distributors (token_id, feed, version, applied_at, reported_at, outputs)
         VALUES (?, 'dns', 0, ?, ?, '[]')`,
      )
      .run(isp.value.id, new Date().toISOString(), new Date().toISOString());
    raw.close();

    const after = openRegistry(path, { protectedDomainsFile: null });
    try {
      expect(after.listTokens().map((t) => [t.id, t.role, t.name])).toEqual([
        [isp.value.id, 'distributor', 'isp'],
      ]);
      expect(after.listDistributors().map((d) => d.name)).toEqual(['isp']);
      expect(after.authenticate(isp.value.token)?.role).toBe('distributor');
      expect(after.createToken('prober', 'probe').ok).toBe(true);
    } finally {
      after.close();
    }
  });
});
