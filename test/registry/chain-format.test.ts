import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHANGE_FORMAT_2, changeHash, encodeChange, GENESIS_HASH } from '../../src/registry/index.ts';
import { runCli } from '../helpers/hub.ts';
import { must, rawDb, reopen, tempDir } from './helpers.ts';

// Change-log row format 2 (decision fields hashed) beside format-1 rows written before schema migration 2.

/** A registry written by the code before migration 2: six versions, 12 format-1 rows. */
const SCHEMA_1 = fileURLToPath(new URL('../fixtures/registry/schema-1.db', import.meta.url));

function upgradedCopy(): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'takedown.db');
  copyFileSync(SCHEMA_1, path);
  return { dir, path };
}

describe('format 2 encoding', () => {
  it('appends reason, release and approval before prev_hash, under its own tag', () => {
    const row = {
      format: 2,
      seq: 3,
      version: 2,
      op: 'remove' as const,
      expression: 'a.example/',
      kind: 'domain' as const,
      category: 'malware' as const,
      action: 'block' as const,
      orderId: 1,
      orderRef: 'A',
      actor: 'bob',
      note: '',
      reason: 'owner appeal',
      release: true,
      approval: '',
    };
    expect(encodeChange(row, GENESIS_HASH)).toBe(
      `17:${CHANGE_FORMAT_2},1:3,1:2,6:remove,10:a.example/,6:domain,7:malware,5:block,1:1,1:A,3:bob,0:,` +
        `12:owner appeal,1:1,0:,64:${GENESIS_HASH},`,
    );
    expect(changeHash(row, GENESIS_HASH)).not.toBe(changeHash({ ...row, release: false }, GENESIS_HASH));
  });
});

describe('a registry written before migration 2', () => {
  it('upgrades in place: old rows verify as format 1, new rows chain on as format 2', () => {
    const { path } = upgradedCopy();
    const registry = reopen(path, { protectedDomains: [] });
    expect(registry.verifyChain()).toEqual({ ok: true, rows: 12 });
    expect(registry.currentVersion()).toBe(6);
    expect(registry.getOrder(2)).toMatchObject({
      ok: true,
      value: { order: { status: 'expired', version: 2 } },
    });
    must(
      registry.createOrder(
        { reference: 'C/3', authority: 'MIC', category: 'fraud', targets: ['c3.example'] },
        'x',
      ),
    );
    must(registry.revokeOrder(3, 'false positive', 'y', { release: true }));
    expect(registry.verifyChain()).toEqual({ ok: true, rows: 15 });
    const formats = must(registry.listChanges({ limit: 1000 })).items.map((c) => c.format);
    expect(formats).toEqual([...Array(12).fill(1), 2, 2, 2]);
  });

  it('refuses a format-1 row given a decision field, or re-tagged as format 2', () => {
    for (const edit of [
      "UPDATE changes SET reason = 'invented' WHERE seq = 5",
      'UPDATE changes SET release = 1 WHERE seq = 5',
      'UPDATE changes SET format = 2 WHERE seq = 5',
    ]) {
      const { path } = upgradedCopy();
      reopen(path, { protectedDomains: [] }).close();
      const db = rawDb(path);
      db.exec('DROP TRIGGER changes_no_update');
      db.exec(edit);
      expect(reopen(path, { protectedDomains: [] }).verifyChain()).toMatchObject({ ok: false, brokenAt: 5 });
    }
  });
});

describe('tampering with a decision field breaks `takedown audit verify`, naming the row', () => {
  it.each([
    ['approval', `UPDATE changes SET approval = replace(approval, 'second', 'third') WHERE op = 'add'`],
    ['reason', `UPDATE changes SET reason = 'routine' WHERE op = 'remove'`],
    ['release', `UPDATE changes SET release = 0 WHERE op = 'remove'`],
  ])('%s', async (_field, edit) => {
    const dir = tempDir();
    const db = join(dir, 'takedown.db');
    const r = reopen(db, { fourEyes: { maxTargets: 1 } });
    const pending = must(
      r.createOrder(
        { reference: 'P', authority: 'MIC', category: 'fraud', targets: ['p1.example', 'p2.example'] },
        'first',
      ),
    );
    expect(pending.pending).toBe(true);
    must(r.approveOrder(pending.order.id, 'checked', 'second'));
    must(r.revokeOrder(pending.order.id, 'false positive', 'first', { release: true }));
    expect(r.verifyChain().ok).toBe(true);
    r.close();
    const raw = rawDb(db);
    raw.exec('DROP TRIGGER changes_no_update');
    const first = raw
      .prepare(`SELECT min(seq) FROM changes WHERE ${edit.split('WHERE ')[1]}`)
      .pluck()
      .get() as number;
    raw.exec(edit);
    raw.close();
    const cli = await runCli(['audit', 'verify', '--data', dir]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(new RegExp(`BROKEN at row seq ${first}\\b`));
  });
});
