/**
 * The cross-runtime fixture table: the same inputs go through canonicalization, lookup expressions, the
 * Bloom filter, confirmation and Ed25519 in Node and in workerd, and both must give the answers committed
 * in parity-expected.json. Web standards only; fixtures come in as text through Vite's `?raw` imports.
 */

import { decodeArtifact, encodeArtifact } from '../../src/core/artifact.ts';
import { sha256, toHex } from '../../src/core/bytes.ts';
import { isRootExpression } from '../../src/core/confirm.ts';
import { createFeedConsumer } from '../../src/core/consumer.ts';
import { lookupExpressions } from '../../src/core/expressions.ts';
import { decodeFilterSnapshot, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { hashExpression } from '../../src/core/hash.ts';
import { generateSigningKey, importPrivateKey, verifySignature } from '../../src/core/keys.ts';
import { canonicalizeUrl } from '../../src/core/url.ts';
import idnaRows from '../fixtures/canonicalization/IdnaTestV2-no-error-rows.txt?raw';
import phishingSample from '../fixtures/canonicalization/phishing-links-sample-2000.txt?raw';
import sbVectors from '../fixtures/canonicalization/safebrowsing-v4-doc-vectors.tsv?raw';
import funkyIpv4 from '../fixtures/canonicalization/urlcanon_funky_ipv4.json?raw';
import parsingCases from '../fixtures/canonicalization/urlcanon_parsing.json?raw';
import malwareDomains from '../fixtures/filter/malware-domains.txt?raw';
import goldenKeyText from '../fixtures/golden/test-signing-key.txt?raw';

/** One URL's answers. `canonical` is the href, or `!code` when canonicalization refused the input. */
export interface UrlAnswer {
  input: string;
  canonical: string;
  /** The lookup expressions, space-separated. */
  expressions: string;
  /** Whether the 1e-6 filter state (Bloom plus confirmation) blocks it. */
  blocked: boolean;
  /** The raw answer of a deliberately small Bloom filter for each expression ('1' maybe, '0' no). */
  loose: string;
}

export interface ParityAnswers {
  /** Counts that tell at a glance whether the table exercised anything. */
  summary: { urls: number; refused: number; blocked: number; looseHits: number; members: number };
  urls: UrlAnswer[];
  /** Hex SHA-256 of the snapshot artifact signed with the committed test key (Ed25519 is deterministic). */
  signedSnapshotSha256: string;
  /** What the consumer says about the signed snapshot and broken copies of it. */
  verification: Record<string, string>;
}

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

/** Every input URL of the table, in a fixed order. */
export function parityInputs(): string[] {
  const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const sb = lines(sbVectors).map((l) => unescapeC(l.split('\t')[0] as string));
  const ipv4 = Object.keys(JSON.parse(funkyIpv4) as object).map((h) => `http://${h}/`);
  const parsing = Object.keys(JSON.parse(parsingCases) as object);
  const idna = lines(idnaRows).map((l) => `http://${unescapeU((l.split(';')[0] as string).trim())}/`);
  return [...sb, ...ipv4, ...parsing, ...idna, ...lines(phishingSample)];
}

/** The filter's members: the malware domains as `domain/` and every 7th phishing URL's own expression. */
function members(inputs: readonly string[]): string[] {
  const out = malwareDomains
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((d) => `${d}/`);
  inputs.forEach((input, i) => {
    const c = canonicalizeUrl(input);
    if (i % 7 === 0 && c.ok) out.push(c.value.expression);
  });
  return out;
}

/** Runs the whole table in the current runtime. */
export async function computeParity(): Promise<ParityAnswers> {
  const inputs = parityInputs();
  const set = members(inputs);
  const key = await importPrivateKey(goldenKeyText);
  if (!key.ok) throw new Error(key.error.message);
  const strict = await encodeFilterSnapshot(set, { fpr: 1e-6 });
  const manifest = {
    kind: 'snapshot' as const,
    feed: 'filter',
    from: 0,
    to: 7,
    createdAt: T0,
    expiresAt: T0 + DAY,
    entryCount: strict.entryCount,
    checksum: strict.checksum,
  };
  const artifact = await encodeArtifact(manifest, strict.payload, key.value);
  const consumer = createFeedConsumer('filter', [key.value.publicKey]);
  const applied = await consumer.apply(artifact, T0 + 1);
  if (!applied.ok || !consumer.state) throw new Error(`signed snapshot refused: ${JSON.stringify(applied)}`);
  const state = consumer.state;
  const loose = decodeFilterSnapshot((await encodeFilterSnapshot(set, { fpr: 0.05 })).payload);
  if (!loose.ok) throw new Error(loose.error.message);
  const { bloom, bits } = loose.value;
  const hash = new Uint32Array(4);
  const passes = (expression: string) => {
    hashExpression(expression, hash);
    const root = isRootExpression(expression);
    return bloom.hasHash(hash, root ? bits.root : bits.path, !root);
  };

  const urls = inputs.map((input): UrlAnswer => {
    const c = canonicalizeUrl(input);
    if (!c.ok) return { input, canonical: `!${c.error.code}`, expressions: '', blocked: false, loose: '' };
    const expressions = lookupExpressions(c.value);
    return {
      input,
      canonical: c.value.href,
      expressions: expressions.join(' '),
      blocked: state.isBlocked(expressions),
      loose: expressions.map((e) => (passes(e) ? '1' : '0')).join(''),
    };
  });
  return {
    summary: {
      urls: urls.length,
      refused: urls.filter((u) => u.canonical.startsWith('!')).length,
      blocked: urls.filter((u) => u.blocked).length,
      looseHits: urls.filter((u) => u.loose.includes('1')).length,
      members: strict.entryCount,
    },
    urls,
    signedSnapshotSha256: toHex(await sha256(artifact)),
    verification: await verificationAnswers(artifact, key.value.publicKey),
  };
}

async function verificationAnswers(
  artifact: Uint8Array,
  trusted: Parameters<typeof verifySignature>[0],
): Promise<Record<string, string>> {
  const verdict = async (bytes: Uint8Array, now = T0 + 1, keys = [trusted]) => {
    const r = await createFeedConsumer('filter', keys).apply(bytes, now);
    return r.ok ? `ok ${r.value.to}` : r.error.code;
  };
  const flip = (offset: number) => {
    const copy = artifact.slice();
    copy[offset] = (copy[offset] as number) ^ 0x80;
    return copy;
  };
  const decoded = decodeArtifact(artifact);
  if (!decoded.ok) throw new Error(decoded.error.message);
  const { signedBytes, signature } = decoded.value;
  const stranger = (await generateSigningKey()).publicKey;
  return {
    valid: await verdict(artifact),
    rawSignature: String(await verifySignature(trusted, signature, signedBytes)),
    flippedSignatureByte: await verdict(flip(signedBytes.length + 5)),
    flippedManifestByte: await verdict(flip(40)),
    flippedPayloadByte: await verdict(flip(artifact.length - 1)),
    untrustedKey: await verdict(artifact, T0 + 1, [stranger]),
    expired: await verdict(artifact, T0 + 2 * DAY),
  };
}

/** The C escapes of the Safe Browsing vectors file (\t \r \n \xNN) as the characters they denote. */
function unescapeC(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[trn\\])/g, (_, e: string) =>
    e === 't'
      ? '\t'
      : e === 'r'
        ? '\r'
        : e === 'n'
          ? '\n'
          : e === '\\'
            ? '\\'
            : String.fromCharCode(Number.parseInt(e.slice(1), 16)),
  );
}

/** The \uXXXX escapes of the IDNA test rows as the characters they denote. */
function unescapeU(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
