import type { ParityAnswers } from './parity-cases.ts';

/** The differences between two runs of the table (at most `limit` URLs), empty when they agree. */
export function parityDiff(actual: ParityAnswers, expected: ParityAnswers, limit = 20): unknown[] {
  const out: unknown[] = [];
  if (actual.urls.length !== expected.urls.length) {
    out.push({ urls: { actual: actual.urls.length, expected: expected.urls.length } });
  }
  for (let i = 0; i < actual.urls.length && out.length < limit; i++) {
    const a = actual.urls[i];
    const e = expected.urls[i];
    if (JSON.stringify(a) !== JSON.stringify(e)) out.push({ actual: a, expected: e });
  }
  for (const field of ['summary', 'signedSnapshotSha256', 'verification'] as const) {
    if (JSON.stringify(actual[field]) !== JSON.stringify(expected[field])) {
      out.push({ [field]: { actual: actual[field], expected: expected[field] } });
    }
  }
  return out;
}
