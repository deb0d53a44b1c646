import { describe, expect, it } from 'vitest';
import { fromBase64, sha256, toBase64, toHex, utf8 } from '../../src/core/bytes.ts';
import {
  exportPrivateKey,
  exportPublicKey,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  keyId,
  parsePublicKeys,
  sign,
  verifySignature,
} from '../../src/core/keys.ts';
import {
  decodeKeySetPayload,
  encodeKeySet,
  encodeKeySetPayload,
  followKeySet,
  pinnedKeys,
} from '../../src/core/keyset.ts';
import { DAY, goldenKey, T0 } from './feed-fixtures.ts';

describe('Ed25519 keys', () => {
  it('exports and imports a private key as base64 PKCS8, deriving the same public key', async () => {
    const key = await generateSigningKey();
    const text = await exportPrivateKey(key);
    const again = await importPrivateKey(`${text}\n`);
    if (!again.ok) throw new Error(again.error.message);
    expect(again.value.id).toBe(key.id);
    expect(again.value.publicKey.raw).toEqual(key.publicKey.raw);
    const data = utf8('order 5167/BTTTT-CATTT');
    expect(await verifySignature(key.publicKey, await sign(again.value, data), data)).toBe(true);
  });

  it('exports a public key as base64 of its 32 raw bytes and reads it back from a file text', async () => {
    const key = await generateSigningKey();
    const text = exportPublicKey(key.publicKey);
    expect(fromBase64(text)).toHaveLength(32);
    const again = await importPublicKey(`  ${text}\n`);
    expect(again.ok && again.value.id).toBe(key.id);
  });

  it('names a key by the first 8 bytes of SHA-256 over its raw public key', async () => {
    const key = await goldenKey();
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(key.id).toBe(toHex((await sha256(key.publicKey.raw)).subarray(0, 8)));
    expect(await keyId(key.publicKey.raw)).toBe(key.id);
  });

  it('signs deterministically', async () => {
    const key = await goldenKey();
    const data = utf8('same bytes');
    expect(toHex(await sign(key, data))).toBe(toHex(await sign(await goldenKey(), data)));
    expect(await sign(key, data)).toHaveLength(64);
  });

  it('verifies only the signed bytes with the signing key', async () => {
    const key = await generateSigningKey();
    const other = await generateSigningKey();
    const data = utf8('payload');
    const signature = await sign(key, data);
    expect(await verifySignature(key.publicKey, signature, data)).toBe(true);
    expect(await verifySignature(other.publicKey, signature, data)).toBe(false);
    expect(await verifySignature(key.publicKey, signature, utf8('payloaD'))).toBe(false);
    expect(await verifySignature(key.publicKey, signature.subarray(0, 63), data)).toBe(false);
    expect(await verifySignature(key.publicKey, new Uint8Array(64), data)).toBe(false);
  });

  it('refuses public keys that are not base64 of 32 raw bytes', async () => {
    for (const text of [
      '',
      'not base64!',
      'AAAA',
      'A'.repeat(43),
      `${'A'.repeat(43)}=`.replace('AA=', 'AB='),
    ]) {
      const result = await importPublicKey(text);
      expect(result, JSON.stringify(text)).toMatchObject({ ok: false, error: { code: 'bad_key' } });
      if (!result.ok) expect(result.error.message).toContain('is not base64 of 32 raw bytes');
    }
  });

  it('refuses a private key that is not Ed25519 PKCS8', async () => {
    expect(await importPrivateKey('AAAA')).toMatchObject({ ok: false, error: { code: 'bad_key' } });
    expect(await importPrivateKey('%%%')).toMatchObject({ ok: false, error: { code: 'bad_key' } });
  });

  it('reads a comma- or space-separated list of trusted keys (TRUSTED_KEYS, PUBLIC_KEY_FILE)', async () => {
    const a = exportPublicKey((await generateSigningKey()).publicKey);
    const b = exportPublicKey((await generateSigningKey()).publicKey);
    const keys = await parsePublicKeys(` ${a},${b}\n${a}\n`);
    expect(keys.ok && keys.value.map(exportPublicKey)).toEqual([a, b]);
    expect(await parsePublicKeys(' \n')).toMatchObject({ ok: false, error: { code: 'bad_key' } });
    expect(await parsePublicKeys(`${a},nope`)).toMatchObject({ ok: false, error: { code: 'bad_key' } });
  });

  it('reads a key file in the forms an operator gets: raw base64, the JSON of GET /v1/keys, PEM and DER SPKI', async () => {
    const one = await generateSigningKey();
    const two = await generateSigningKey();
    const raw = exportPublicKey(one.publicKey);
    const der = new Uint8Array(await crypto.subtle.exportKey('spki', one.publicKey.key));
    const pem = (bytes: Uint8Array) =>
      `-----BEGIN PUBLIC KEY-----\n${toBase64(bytes).replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`;
    const keysJson = JSON.stringify({
      keys: [one, two].map((k) => ({ id: k.id, publicKey: exportPublicKey(k.publicKey) })),
    });
    const ids = async (text: string) => {
      const parsed = await parsePublicKeys(text);
      if (!parsed.ok) throw new Error(parsed.error.message);
      return parsed.value.map((k) => k.id);
    };
    expect(await ids(`${raw}\n`)).toEqual([one.id]);
    expect(await ids(keysJson)).toEqual([one.id, two.id]);
    expect(await ids(pem(der))).toEqual([one.id]);
    expect(
      await ids(pem(der) + pem(new Uint8Array(await crypto.subtle.exportKey('spki', two.publicKey.key)))),
    ).toEqual([one.id, two.id]);
    expect(await ids(toBase64(der))).toEqual([one.id]);
  });

  it('names what is wrong with a key file it cannot read', async () => {
    const one = await generateSigningKey();
    const message = async (text: string) => {
      const parsed = await parsePublicKeys(text);
      expect(parsed.ok).toBe(false);
      return parsed.ok ? '' : parsed.error.message;
    };
    expect(await message('{"keys": []}')).toContain('GET /v1/keys');
    expect(await message('{"key": "x"}')).toContain('GET /v1/keys');
    expect(await message('{"keys": [')).toContain('not JSON');
    const altered = JSON.stringify({
      keys: [{ id: '0011223344556677', publicKey: exportPublicKey(one.publicKey) }],
    });
    expect(await message(altered)).toContain('the file was altered');
    expect(await message('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')).toContain(
      'is not a public key',
    );
    expect(await message('-----BEGIN PUBLIC KEY-----\nAAAA\n')).toContain('not closed');
    const rsa = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    );
    const rsaDer = new Uint8Array(await crypto.subtle.exportKey('spki', rsa.publicKey));
    expect(
      await message(`-----BEGIN PUBLIC KEY-----\n${toBase64(rsaDer)}\n-----END PUBLIC KEY-----`),
    ).toContain('Ed25519 SubjectPublicKeyInfo');
  });
});

describe('key sets (rotation)', () => {
  const window = { createdAt: T0, expiresAt: T0 + 30 * DAY };

  it('writes sorted base64 lines and reads only that canonical form', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    const payload = encodeKeySetPayload([b.publicKey, a.publicKey, b.publicKey]);
    const lines = [exportPublicKey(a.publicKey), exportPublicKey(b.publicKey)].sort();
    expect(new TextDecoder().decode(payload)).toBe(`${lines.join('\n')}\n`);
    const decoded = await decodeKeySetPayload(payload);
    expect(decoded.ok && decoded.value.map((k) => k.id).sort()).toEqual([a.id, b.id].sort());
    for (const bad of [
      `${lines[1]}\n${lines[0]}\n`,
      `${lines[0]}`,
      '',
      `${lines[0]}\n\n`,
      `${lines[0]} \n`,
    ]) {
      expect(await decodeKeySetPayload(utf8(bad)), JSON.stringify(bad)).toMatchObject({
        error: { code: 'bad_payload' },
      });
    }
  });

  it('follows a key set signed by a trusted key, then trusts exactly the keys it names', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    const bytes = await encodeKeySet({ keys: [a.publicKey, b.publicKey], version: 1, ...window }, a);
    const ring = await followKeySet(pinnedKeys([a.publicKey]), bytes, T0);
    if (!ring.ok) throw new Error(ring.error.message);
    expect(ring.value.version).toBe(1);
    expect(ring.value.keys.map((k) => k.id).sort()).toEqual([a.id, b.id].sort());

    const onlyB = await encodeKeySet({ keys: [b.publicKey], version: 2, ...window }, b);
    const next = await followKeySet(ring.value, onlyB, T0);
    expect(next.ok && next.value.keys.map((k) => k.id)).toEqual([b.id]);
  });

  it('refuses key sets from untrusted keys, replays, expired sets and forged payloads', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    const pinned = pinnedKeys([a.publicKey]);
    const byB = await encodeKeySet({ keys: [b.publicKey], version: 1, ...window }, b);
    expect(await followKeySet(pinned, byB, T0)).toMatchObject({ error: { code: 'untrusted_key' } });

    const v1 = await encodeKeySet({ keys: [a.publicKey, b.publicKey], version: 1, ...window }, a);
    expect(await followKeySet({ version: 1, keys: [a.publicKey] }, v1, T0)).toMatchObject({
      error: { code: 'rollback' },
    });
    expect(await followKeySet(pinned, v1, window.expiresAt + 1)).toMatchObject({
      error: { code: 'expired' },
    });

    const forged = v1.slice();
    forged[forged.length - 2] = 0x41;
    expect(await followKeySet(pinned, forged, T0)).toMatchObject({ error: { code: 'payload_digest' } });
  });
});
