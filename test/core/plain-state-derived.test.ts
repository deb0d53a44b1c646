import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeDelta, encodeSnapshot, indexSnapshot } from '../../src/core/plain-payload.ts';
import { domainLineRuns, PlainState, setHashOfLines } from '../../src/core/plain-state.ts';
import type { Change, FeedEntry } from '../../src/core/types.ts';
import { mixedEntries } from '../render/fixtures.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** The `dns` state derived from the `url` state's payload, and the one built from the `dns` payload. */
function bothDnsStates(urlEntries: readonly FeedEntry[]): {
  derived: PlainState;
  built: PlainState;
  urlPayload: Uint8Array;
} {
  const urlPayload = encodeSnapshot(urlEntries);
  const starts = indexSnapshot(urlPayload);
  if (!starts.ok) throw new Error(starts.error.message);
  const dnsPayload = encodeSnapshot(urlEntries.filter((e) => e.kind === 'domain'));
  const dnsStarts = indexSnapshot(dnsPayload);
  if (!dnsStarts.ok) throw new Error(dnsStarts.error.message);
  const runs = domainLineRuns(urlPayload, starts.value);
  const sum = setHashOfLines(dnsPayload, dnsStarts.value);
  const built = PlainState.fromSnapshot(dnsPayload);
  if (!built.ok) throw new Error(built.error.message);
  const derived = PlainState.fromLineRuns(urlPayload, starts.value, runs, sum);
  return { derived, built: built.value, urlPayload };
}

async function expectSameState(a: PlainState, b: PlainState): Promise<void> {
  expect(a.entryCount).toBe(b.entryCount);
  expect(await a.checksum()).toBe(await b.checksum());
  expect(hex(a.toSnapshotPayload())).toBe(hex(b.toSnapshotPayload()));
  expect([...a.entries()]).toEqual([...b.entries()]);
}

/** The set hash a state's lines give, recomputed from its payload (not carried along). */
function recomputedChecksum(state: PlainState): string {
  const payload = state.toSnapshotPayload();
  const starts = indexSnapshot(payload);
  if (!starts.ok) throw new Error(starts.error.message);
  return setHashOfLines(payload, starts.value).hex();
}

describe('a dns state derived from the url state', () => {
  it('equals the state of the dns payload on a real mixed list: entries, lookups, checksum, deltas', async () => {
    const mixed = mixedEntries();
    const { derived, built } = bothDnsStates(mixed);
    expect(derived.entryCount).toBeGreaterThan(2000);
    await expectSameState(derived, built);
    for (const entry of mixed) expect(derived.get(entry.expression)).toEqual(built.get(entry.expression));
    expect(derived.get('absent.example/')).toBeUndefined();
    // A delta that removes every 5th domain and adds names between the shared runs.
    const domains = mixed.filter((e) => e.kind === 'domain');
    const changes: Change[] = [
      ...domains.filter((_, i) => i % 5 === 0).map((e): Change => ({ op: 'remove', ...e })),
      ...domains
        .filter((_, i) => i % 97 === 0)
        .map((e): Change => ({ op: 'add', ...e, expression: `${e.expression.slice(0, -1)}0/` }))
        .filter((c) => !domains.some((d) => d.expression === c.expression)),
    ].sort((a, b) => (a.expression < b.expression ? -1 : a.expression > b.expression ? 1 : 0));
    const delta = encodeDelta(changes);
    const fromDerived = derived.applyDelta(delta);
    const fromBuilt = built.applyDelta(delta);
    if (!fromDerived.ok || !fromBuilt.ok) throw new Error('delta refused');
    await expectSameState(fromDerived.value, fromBuilt.value);
    expect(await fromDerived.value.checksum()).toBe(recomputedChecksum(fromDerived.value));
  });

  it('shares the url payload for long runs of domains and copies short ones', () => {
    const entries: FeedEntry[] = [];
    const name = (i: number) => `n${String(i).padStart(5, '0')}.example/`;
    // 3000 domains, then alternating single urls and domains.
    for (let i = 0; i < 3000; i++)
      entries.push({ expression: name(i), kind: 'domain', category: 'phishing', action: 'block' });
    for (let i = 3000; i < 3100; i++)
      entries.push({
        expression: i % 2 ? `${name(i)}x` : name(i),
        kind: i % 2 ? 'url' : 'domain',
        category: 'malware',
        action: 'block',
      });
    const { derived, urlPayload } = bothDnsStates(entries);
    const [shared, copied, ...rest] = derived.snapshotParts();
    expect(rest).toEqual([]);
    expect(shared?.buffer).toBe(urlPayload.buffer);
    // The 3000 phishing domains and the first malware one (n03000) run on without a url between them.
    const line = (category: string) => `n00000.example/\tdomain\t${category}\tblock\n`.length;
    expect(shared?.length).toBe(3000 * line('phishing') + line('malware'));
    expect(copied?.buffer).not.toBe(urlPayload.buffer);
    expect(copied?.length).toBe(49 * line('malware'));
  });

  it('equals the state of the dns payload for any runs of domains and urls, before and after deltas', async () => {
    const name = (i: number) => `h${String(i).padStart(5, '0')}.example/`;
    const layout = fc.array(fc.tuple(fc.nat(90), fc.nat(4)), { minLength: 1, maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(layout, fc.array(fc.nat(4000), { maxLength: 40 }), async (runs, touched) => {
        const entries: FeedEntry[] = [];
        let i = 0;
        for (const [domains, urls] of runs) {
          for (let d = 0; d < domains; d++, i++)
            entries.push({ expression: name(i), kind: 'domain', category: 'phishing', action: 'block' });
          for (let u = 0; u < urls; u++, i++)
            entries.push({ expression: `${name(i)}p`, kind: 'url', category: 'malware', action: 'block' });
        }
        const { derived, built } = bothDnsStates(entries);
        await expectSameState(derived, built);
        // Touch some names: remove a present domain, add an absent one.
        const present = new Set(entries.filter((e) => e.kind === 'domain').map((e) => e.expression));
        const changes = [...new Set(touched.map((t) => t % (i + 10)))]
          .sort((a, b) => a - b)
          .filter((t) => !entries.some((e) => e.expression === `${name(t)}p`))
          .map(
            (t): Change =>
              present.has(name(t))
                ? { op: 'remove', expression: name(t), kind: 'domain', category: 'phishing', action: 'block' }
                : { op: 'add', expression: name(t), kind: 'domain', category: 'fraud', action: 'block' },
          );
        const delta = encodeDelta(changes);
        const a = derived.applyDelta(delta);
        const b = built.applyDelta(delta);
        expect(a.ok && b.ok).toBe(true);
        if (a.ok && b.ok) {
          await expectSameState(a.value, b.value);
          expect(await a.value.checksum()).toBe(recomputedChecksum(a.value));
        }
      }),
      { numRuns: 150 },
    );
  });
});
