/**
 * Ed25519 keys through WebCrypto, so the hub, the sync agent and the Worker share one implementation.
 * Text forms: a private key is base64 of its PKCS8 DER (what the hub keeps under its data directory);
 * a public key is base64 of its raw 32 bytes (what `GET /v1/keys` serves and a PUBLIC_KEY_FILE holds); a
 * key file may also hold that JSON or PEM SubjectPublicKeyInfo (`parsePublicKeys`).
 */
import { fromBase64, sha256, toBase64, toHex } from './bytes.ts';
import { fail, ok, type Result } from './types.ts';

const ALGORITHM = 'Ed25519';
/** Bytes of a key id: the leading bytes of SHA-256 over the raw public key. */
export const KEY_ID_BYTES = 8;
const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** A public key ready to verify, with its raw bytes and id. */
export interface PublicKey {
  /** Hex of the first {@link KEY_ID_BYTES} bytes of SHA-256(raw). */
  id: string;
  raw: Uint8Array;
  key: CryptoKey;
}

/** A private key and its public half. */
export interface SigningKey {
  id: string;
  publicKey: PublicKey;
  privateKey: CryptoKey;
}

/** The id of a raw 32-byte public key: hex of the first 8 bytes of its SHA-256. */
export async function keyId(publicKeyRaw: Uint8Array): Promise<string> {
  return toHex((await sha256(publicKeyRaw)).subarray(0, KEY_ID_BYTES));
}

/** A fresh, exportable Ed25519 key pair. */
export async function generateSigningKey(): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey({ name: ALGORITHM }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const publicKey: PublicKey = { id: await keyId(raw), raw, key: pair.publicKey };
  return { id: publicKey.id, publicKey, privateKey: pair.privateKey };
}

/** Base64 of the private key's PKCS8 DER. */
export async function exportPrivateKey(key: SigningKey): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.exportKey('pkcs8', key.privateKey)));
}

/** The signing key stored as base64 PKCS8 (surrounding white space ignored); its public half is derived. */
export async function importPrivateKey(text: string): Promise<Result<SigningKey>> {
  const der = fromBase64(text.trim());
  if (!der) return fail('bad_key', 'private key is not base64 PKCS8');
  let privateKey: CryptoKey;
  let x: string | undefined;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', der as Uint8Array<ArrayBuffer>, ALGORITHM, true, [
      'sign',
    ]);
    // PKCS8 v1 carries no public key: the JWK form of the private key does (`x`).
    x = ((await crypto.subtle.exportKey('jwk', privateKey)) as JsonWebKey).x;
  } catch (error) {
    return fail('bad_key', `private key is not an Ed25519 PKCS8 key: ${(error as Error).message}`);
  }
  const raw = x === undefined ? undefined : fromBase64Url(x);
  if (raw?.length !== PUBLIC_KEY_BYTES) return fail('bad_key', 'private key has no Ed25519 public half');
  const publicKey = await importRawPublicKey(raw);
  return publicKey.ok ? ok({ id: publicKey.value.id, publicKey: publicKey.value, privateKey }) : publicKey;
}

/** Base64 of the raw 32-byte public key. */
export const exportPublicKey = (key: PublicKey): string => toBase64(key.raw);

/**
 * A public key from base64 of its raw 32 bytes (surrounding white space ignored, e.g. a file's newline), or
 * of its DER SubjectPublicKeyInfo (what `openssl pkey -pubout -outform DER` writes).
 */
export async function importPublicKey(text: string): Promise<Result<PublicKey>> {
  const bytes = fromBase64(text.trim());
  if (bytes?.length === PUBLIC_KEY_BYTES) return importRawPublicKey(bytes);
  if (bytes !== undefined && bytes.length > PUBLIC_KEY_BYTES) {
    const raw = await rawFromSpki(bytes);
    if (raw) return importRawPublicKey(raw);
  }
  return fail(
    'bad_key',
    `public key "${text.trim().slice(0, 60)}" is not base64 of 32 raw bytes or of an Ed25519 SubjectPublicKeyInfo`,
  );
}

/**
 * Every public key in `text`, in any of the forms a key reaches an operator: base64 keys separated by commas
 * or white space (TRUSTED_KEYS, a PUBLIC_KEY_FILE), the JSON of `GET /v1/keys`, or PEM blocks
 * (`-----BEGIN PUBLIC KEY-----`, Ed25519 SubjectPublicKeyInfo, as `openssl pkey -pubout` writes).
 */
export async function parsePublicKeys(text: string): Promise<Result<PublicKey[]>> {
  const items = keyTexts(text);
  if (!items.ok) return items;
  const keys: PublicKey[] = [];
  for (const item of items.value) {
    const key = await importPublicKey(item.text);
    if (!key.ok) return key;
    if (item.id !== undefined && item.id !== key.value.id) {
      return fail('bad_key', `key "${item.id}" of the JSON has id ${key.value.id}: the file was altered`);
    }
    if (!keys.some((k) => k.id === key.value.id)) keys.push(key.value);
  }
  return keys.length > 0 ? ok(keys) : fail('bad_key', 'no public key given');
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/g;

/** The base64 texts of the keys in `text` (with the id the JSON names, if any), whatever its form. */
function keyTexts(text: string): Result<Array<{ text: string; id?: string }>> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      return fail('bad_key', `the keys start like JSON but are not JSON: ${(error as Error).message}`);
    }
    const list = Array.isArray(json) ? json : (json as { keys?: unknown }).keys;
    const items = Array.isArray(list) ? list.map(jsonKey) : [];
    if (items.length === 0 || items.some((item) => item === undefined)) {
      return fail(
        'bad_key',
        'JSON keys must be the answer of GET /v1/keys: {"keys": [{"id", "publicKey"}, ...]}',
      );
    }
    return ok(items as Array<{ text: string; id?: string }>);
  }
  if (trimmed.includes('-----BEGIN')) {
    const blocks = [...trimmed.matchAll(PEM_BLOCK)];
    const other = blocks.find((m) => m[1] !== 'PUBLIC KEY');
    if (other)
      return fail('bad_key', `a PEM "${other[1]}" block is not a public key: give "PUBLIC KEY" blocks`);
    if (blocks.length === 0) return fail('bad_key', 'a PEM block is not closed by its -----END line');
    return ok(blocks.map((m) => ({ text: (m[2] as string).replace(/\s+/g, '') })));
  }
  return ok(
    trimmed
      .split(/[\s,]+/)
      .filter((s) => s !== '')
      .map((item) => ({ text: item })),
  );
}

function jsonKey(item: unknown): { text: string; id?: string } | undefined {
  if (typeof item === 'string') return { text: item };
  const { publicKey, id } = (item ?? {}) as { publicKey?: unknown; id?: unknown };
  if (typeof publicKey !== 'string') return undefined;
  return typeof id === 'string' ? { text: publicKey, id } : { text: publicKey };
}

/** The raw key of a DER SubjectPublicKeyInfo when it is an Ed25519 one. */
async function rawFromSpki(der: Uint8Array): Promise<Uint8Array | undefined> {
  try {
    const key = await crypto.subtle.importKey('spki', der as Uint8Array<ArrayBuffer>, ALGORITHM, true, [
      'verify',
    ]);
    return new Uint8Array(await crypto.subtle.exportKey('raw', key));
  } catch {
    return undefined;
  }
}

async function importRawPublicKey(raw: Uint8Array): Promise<Result<PublicKey>> {
  try {
    const key = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, ALGORITHM, true, [
      'verify',
    ]);
    return ok({ id: await keyId(raw), raw: raw.slice(), key });
  } catch (error) {
    return fail('bad_key', `not an Ed25519 public key: ${(error as Error).message}`);
  }
}

/** The 64-byte Ed25519 signature of `data` (deterministic: same key and data, same bytes). */
export async function sign(key: SigningKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(ALGORITHM, key.privateKey, data as Uint8Array<ArrayBuffer>));
}

/** Whether `signature` is `key`'s signature of `data`; never throws. */
export async function verifySignature(
  key: PublicKey,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return await crypto.subtle.verify(
      ALGORITHM,
      key.key,
      signature as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

function fromBase64Url(text: string): Uint8Array | undefined {
  const b64 = text.replaceAll('-', '+').replaceAll('_', '/');
  return fromBase64(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='));
}
