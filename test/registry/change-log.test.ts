import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { changeHash, encodeChange, GENESIS_HASH } from '../../src/registry/index.ts';
import { must, rawDb, reopen, tempRegistry } from './helpers.ts';

const row = {
  seq: 1,
  version: 1,
  op: 'add' as const,
  expression: 'evil.example/',
  kind: 'domain' as const,
  category: 'malware' as const,
  action: 'block' as const,
  orderId: 1,
  orderRef: 'A/2024',
  actor: 'alice',
  note: '',
};

describe('change encoding', () => {
  it('is the documented netstring sequence, and the hash is SHA-256 over it', () => {
    const encoded = encodeChange(row, GENESIS_HASH);
    expect(encoded).toBe(
      `17:takedown-change/1,1:1,1:1,3:add,13:evil.example/,6:domain,7:malware,5:block,1:1,6:A/2024,5:alice,0:,64:${GENESIS_HASH},`,
    );
    expect(changeHash(row, GENESIS_HASH)).toBe(createHash('sha256').update(encoded).digest('hex'));
  });

  it('counts UTF-8 bytes, so free text cannot shift field boundaries', () => {
    const a = encodeChange({ ...row, actor: 'Nguyễn', note: '5:x,' }, GENESIS_HASH);
    expect(a).toContain(',8:Nguyễn,4:5:x,,64:');
    expect(changeHash({ ...row, actor: 'a,1:b' }, GENESIS_HASH)).not.toBe(
      changeHash({ ...row, actor: 'a' }, GENESIS_HASH),
    );
  });
});

/** A registry with 3 versions and 9 change rows (the revocation writes a `revoke` row first), closed so a raw connection can tamper with it. */
function seeded() {
  const { registry, path } = tempRegistry();
  must(
    registry.createOrder(
      {
        reference: 'A/1',
        authority: 'X',
        category: 'phishing',
        targets: ['a.example', 'b.example', 'c.example'],
      },
      'alice',
    ),
  );
  must(
    registry.createOrder(
      { reference: 'B/2', authority: 'X', category: 'malware', targets: ['d.example', 'b.example'] },
      'bob',
    ),
  );
  must(registry.revokeOrder(1, 'done', 'carol'));
  expect(registry.verifyChain()).toEqual({ ok: true, rows: 9 });
  const hashes = must(registry.listChanges({})).items;
  expect(hashes[0]?.prevHash).toBe(GENESIS_HASH);
  expect(hashes[1]?.prevHash).toBe(hashes[0]?.hash);
  registry.close();
  const db = rawDb(path);
  db.exec('DROP TRIGGER changes_no_update; DROP TRIGGER changes_no_delete;');
  return { db, verify: () => reopen(path).verifyChain() };
}

describe('verifyChain', () => {
  it('refuses edits through SQL while the guard triggers exist', () => {
    const { registry, path } = tempRegistry();
    must(
      registry.createOrder(
        { reference: 'A', authority: 'X', category: 'phishing', targets: ['a.example'] },
        'a',
      ),
    );
    const db = rawDb(path);
    expect(() => db.prepare("UPDATE changes SET expression = 'x/'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM changes').run()).toThrow(/append-only/);
  });

  it('names the seq of a row whose expression was edited', () => {
    const { db, verify } = seeded();
    db.prepare("UPDATE changes SET expression = 'innocent.example/' WHERE seq = 3").run();
    expect(verify()).toEqual({ ok: false, rows: 2, brokenAt: 3, reason: 'hash_mismatch' });
  });

  it('names the seq of a row whose category was edited', () => {
    const { db, verify } = seeded();
    db.prepare("UPDATE changes SET category = 'other' WHERE seq = 5").run();
    expect(verify()).toMatchObject({ ok: false, brokenAt: 5 });
  });

  it('detects a row whose hash was recomputed after an edit, at the next row', () => {
    const { db, verify } = seeded();
    const prev = db.prepare('SELECT hash FROM changes WHERE seq = 1').pluck().get() as Buffer;
    const forged = changeHash(
      { ...row, format: 2, seq: 2, orderRef: 'A/1', category: 'phishing', expression: 'x.example/' },
      prev.toString('hex'),
    );
    db.prepare("UPDATE changes SET expression = 'x.example/', hash = ? WHERE seq = 2").run(
      Buffer.from(forged, 'hex'),
    );
    expect(verify()).toMatchObject({ ok: false, brokenAt: 3, reason: 'hash_mismatch' });
  });

  it('detects a deleted row', () => {
    const { db, verify } = seeded();
    db.prepare('DELETE FROM changes WHERE seq = 4').run();
    expect(verify()).toEqual({ ok: false, rows: 3, brokenAt: 4, reason: 'missing_rows' });
  });

  it('detects rows cut from the end of the log', () => {
    const { db, verify } = seeded();
    db.prepare('DELETE FROM changes WHERE seq >= 6').run();
    expect(verify()).toEqual({ ok: false, rows: 5, brokenAt: 6, reason: 'truncated' });
  });

  it("detects an edit of a hashed field kept outside the row (the order's reference)", () => {
    const { db, verify } = seeded();
    db.prepare("UPDATE orders SET reference = 'Z/9' WHERE id = 2").run();
    expect(verify()).toMatchObject({ ok: false, brokenAt: 4 });
  });
});
