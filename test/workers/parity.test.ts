import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeParity, type ParityAnswers } from './parity-cases.ts';
import { parityDiff } from './parity-compare.ts';

const EXPECTED = new URL('./parity-expected.json', import.meta.url);

describe('cross-runtime parity table, in Node', () => {
  it('gives the committed answers (UPDATE_PARITY=1 rewrites them after a deliberate change)', async () => {
    const actual = await computeParity();
    if (process.env.UPDATE_PARITY === '1' || !existsSync(EXPECTED)) {
      writeFileSync(EXPECTED, `${JSON.stringify(actual, null, 2)}\n`);
    }
    const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as ParityAnswers;
    expect(parityDiff(actual, expected)).toEqual([]);
    expect(actual.summary.blocked).toBeGreaterThan(100);
    expect(actual.summary.looseHits).toBeGreaterThan(actual.summary.blocked);
    expect(actual.verification).toEqual({
      valid: 'ok 7',
      rawSignature: 'true',
      flippedSignatureByte: 'bad_signature',
      flippedManifestByte: 'bad_signature',
      flippedPayloadByte: 'payload_digest',
      untrustedKey: 'untrusted_key',
      expired: 'expired',
    });
  });
});
