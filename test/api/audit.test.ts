import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeHash } from '../../src/registry/change-log.ts';
import type { ChangeRecord } from '../../src/registry/types.ts';
import { expectError, runCli, type TestHub, testApp } from '../helpers/hub.ts';

// GET /v1/audit (the hash-chained change log), GET /v1/audit/verify, and `takedown audit verify`.

let t: TestHub;
beforeEach(async () => {
  t = await testApp();
  const post = async (reference: string, targets: string[]) => {
    const json = { reference, authority: 'Authority', category: 'botnet', targets };
    expect((await t.call('POST', '/v1/orders', { as: 'regulator', json })).status).toBe(201);
  };
  await post('A', ['c2-one.example', 'c2-two.example', 'c2-three.example']); // seq 1..3, version 1
  await post('B', ['drop.example/bin/', 'c2-four.example']); // seq 4..5, version 2
  const revoke = { reason: 'taken down by the host' };
  expect((await t.call('POST', '/v1/orders/1/revoke', { as: 'regulator', json: revoke })).status).toBe(200); // seq 6..9
});
afterEach(() => t.close());

const audit = async (query = '') => {
  const r = await t.call('GET', `/v1/audit${query}`, { as: 'auditor' });
  expect(r.status).toBe(200);
  return r.body as { changes: ChangeRecord[]; nextAfter: number | null };
};

/** Rewrites one change-log row in the database file, as an attacker with file access would. */
function tamper(dbPath: string, sql: string) {
  const db = new Database(dbPath);
  try {
    db.exec('DROP TRIGGER IF EXISTS changes_no_update; DROP TRIGGER IF EXISTS changes_no_delete;');
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('GET /v1/audit', () => {
  it('lists the change log in seq order, each row chained to the one before', async () => {
    const { changes, nextAfter } = await audit();
    expect(nextAfter).toBeNull();
    expect(changes.map((c) => [c.seq, c.version, c.op, c.expression])).toEqual([
      [1, 1, 'add', 'c2-one.example/'],
      [2, 1, 'add', 'c2-two.example/'],
      [3, 1, 'add', 'c2-three.example/'],
      [4, 2, 'add', 'drop.example/bin/'],
      [5, 2, 'add', 'c2-four.example/'],
      [6, 3, 'revoke', ''],
      [7, 3, 'remove', 'c2-one.example/'],
      [8, 3, 'remove', 'c2-two.example/'],
      [9, 3, 'remove', 'c2-three.example/'],
    ]);
    // The revocation's reason is a hashed field of its rows.
    expect(changes.slice(5).map((c) => c.reason)).toEqual(Array(4).fill('taken down by the host'));
    expect(changes[0]?.prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < changes.length; i++) expect(changes[i]?.prevHash).toBe(changes[i - 1]?.hash);
    expect(changes[6]).toMatchObject({
      orderRef: 'A',
      actor: `token:${t.tokenIds.regulator}:test-regulator`,
    });
  });

  it('pages with `after` and filters one version', async () => {
    const seqs: number[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page = await audit(`?limit=3&after=${after}`);
      seqs.push(...page.changes.map((c) => c.seq));
      after = page.nextAfter;
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await audit('?version=2')).changes.map((c) => c.seq)).toEqual([4, 5]);
    expect((await audit('?version=3&limit=2')).changes.map((c) => c.seq)).toEqual([6, 7]);
    expect((await audit('?version=99')).changes).toEqual([]);
  });

  it('refuses bad paging parameters', async () => {
    for (const q of ['after=-1', 'after=x', 'version=0', 'limit=0', 'limit=5000', 'cursor=abc']) {
      expectError(await t.call('GET', `/v1/audit?${q}`, { as: 'auditor' }), 400, 'invalid_request');
    }
  });
});

describe('verifying the chain', () => {
  it('answers ok for an untouched log, over HTTP and from the CLI', async () => {
    const r = await t.call('GET', '/v1/audit/verify', { as: 'auditor' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, rows: 9 });
    const cli = await runCli(['audit', 'verify', '--data', t.dataDir]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/change log ok: 9 rows/);
  });

  it('names the row an attacker edited by hand', async () => {
    tamper(t.dbPath, `UPDATE changes SET expression = 'innocent.example/' WHERE seq = 4`);
    const r = await t.call('GET', '/v1/audit/verify', { as: 'auditor' });
    expect(r.body).toMatchObject({ ok: false, brokenAt: 4, reason: 'hash_mismatch' });
    const cli = await runCli(['audit', 'verify', '--data', t.dataDir]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/BROKEN at row seq 4\b/);
  });

  it('catches an edit whose own hash was recomputed, at the next row', async () => {
    // The attacker fixes row 2's hash so it matches its new content; row 3 still points at the old one.
    const row = (await audit()).changes[1] as ChangeRecord;
    const hash = changeHash({ ...row, expression: 'x.example/' }, row.prevHash);
    tamper(t.dbPath, `UPDATE changes SET expression = 'x.example/', hash = X'${hash}' WHERE seq = 2`);
    const r = await t.call('GET', '/v1/audit/verify', { as: 'auditor' });
    expect(r.body).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('notices rows cut from the end of the log', async () => {
    tamper(t.dbPath, 'DELETE FROM changes WHERE seq >= 7');
    const r = await t.call('GET', '/v1/audit/verify', { as: 'auditor' });
    expect(r.body).toMatchObject({ ok: false, rows: 6, brokenAt: 7 });
    const cli = await runCli(['audit', 'verify', '--data', t.dataDir]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/row seq 7\b/);
  });
});
