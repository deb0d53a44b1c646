import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeDelta,
  encodeDelta,
  encodeSnapshot,
  indexSnapshot,
  PlainPayloadError,
  wordsByFirstByte,
} from '../../src/core/plain-payload.ts';
import { diff, PlainState, plainChecksum } from '../../src/core/plain-state.ts';
import { ACTIONS, CATEGORIES, type FeedEntry, type Result } from '../../src/core/types.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** The plain feeds' checksum computed independently: SHA-256 of each line, summed modulo 2^256, 64 hex digits. */
function setHash(payload: Uint8Array): string {
  let sum = 0n;
  let start = 0;
  for (let end = payload.indexOf(0x0a); end !== -1; end = payload.indexOf(0x0a, start)) {
    sum += BigInt(
      `0x${createHash('sha256')
        .update(payload.subarray(start, end + 1))
        .digest('hex')}`,
    );
    start = end + 1;
  }
  return (sum % 2n ** 256n).toString(16).padStart(64, '0');
}
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A payload refused as `bad_payload` with a message naming the line and what is wrong there. */
function expectBadPayload(result: Result<unknown>, line: number, words: string): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.code).toBe('bad_payload');
  expect(result.error.message).toContain(`line ${line}:`);
  expect(result.error.message).toContain(words);
}
const domain = (expression: string, category: FeedEntry['category'] = 'phishing'): FeedEntry => ({
  expression,
  kind: 'domain',
  category,
  action: 'block',
});

const expressionArb = fc
  .tuple(
    fc.constantFrom('a.example', 'b.example', 'ab.example', 'a.example.com', 'xn--80ak6aa92e.test'),
    fc.constantFrom('/', '/x', '/x/', '/x?q=1', '/X%20y', '/a/b/c.php'),
  )
  .map(([host, path]) => host + path);
const entryArb: fc.Arbitrary<FeedEntry> = fc.record({
  expression: expressionArb,
  kind: fc.constantFrom('domain' as const, 'url' as const),
  category: fc.constantFrom(...CATEGORIES),
  action: fc.constantFrom(...ACTIONS),
});
const stateArb = fc
  .uniqueArray(entryArb, { selector: (e) => e.expression, maxLength: 25 })
  .map((entries) => PlainState.fromEntries(entries));

describe('plain payloads', () => {
  it('writes a snapshot as sorted tab-separated lines', () => {
    const payload = encodeSnapshot([
      domain('a.example/'),
      { expression: 'a.example/x?y=1', kind: 'url', category: 'csam', action: 'redirect' },
    ]);
    expect(text(payload)).toBe('a.example/\tdomain\tphishing\tblock\na.example/x?y=1\turl\tcsam\tredirect\n');
  });

  it('refuses unsorted, duplicate or unwritable entries', () => {
    expect(() => encodeSnapshot([domain('b.example/'), domain('a.example/')])).toThrow(PlainPayloadError);
    expect(() => encodeSnapshot([domain('a.example/'), domain('a.example/')])).toThrow(/a\.example/);
    expect(() => encodeSnapshot([domain('a b.example/')])).toThrow(PlainPayloadError);
    expect(() => encodeSnapshot([domain('é.example/')])).toThrow(PlainPayloadError);
    expect(() => encodeSnapshot([{ ...domain('a.example/'), category: 'spam' as never }])).toThrow(
      PlainPayloadError,
    );
  });

  it('writes a delta sorted by expression, a remove before an add of the same expression', () => {
    const payload = encodeDelta([
      { op: 'add', ...domain('b.example/', 'fraud') },
      { op: 'remove', expression: 'b.example/' },
      { op: 'remove', ...domain('a.example/') },
    ]);
    expect(text(payload)).toBe('-\ta.example/\n-\tb.example/\n+\tb.example/\tdomain\tfraud\tblock\n');
    expect(decodeDelta(payload)).toEqual({
      ok: true,
      value: [
        { op: 'remove', expression: 'a.example/' },
        { op: 'remove', expression: 'b.example/' },
        { op: 'add', ...domain('b.example/', 'fraud') },
      ],
    });
    expect(() =>
      encodeDelta([
        { op: 'remove', expression: 'a/' },
        { op: 'remove', expression: 'a/' },
      ]),
    ).toThrow(PlainPayloadError);
  });

  it.each([
    ['a.example/\tdomain\tphishing\tblock', 1, 'LF'],
    ['a.example/\tdomain\tphishing\n', 1, 'TAB kind'],
    ['a.example/\tdomain\tphishing\tblock\tx\n', 1, 'TAB kind'],
    ['a.example/\tdomain\tspam\tblock\n', 1, 'TAB kind'],
    ['\tdomain\tphishing\tblock\n', 1, 'empty'],
    ['a.example/ \tdomain\tphishing\tblock\n', 1, 'printable'],
    ['a.example/\r\tdomain\tphishing\tblock\n', 1, 'printable'],
    ['b.example/\tdomain\tphishing\tblock\na.example/\tdomain\tphishing\tblock\n', 2, 'sorted'],
    ['a.example/\tdomain\tphishing\tblock\na.example/\turl\tphishing\tblock\n', 2, 'duplicated'],
    ['a.example/\tdomain\tphishing\tblock\n\n', 2, 'empty'],
    ['a.example/\n', 1, 'TAB kind'],
    ['a.example/\tdomai\tphishing\tblock\n', 1, 'TAB kind'],
    ['a.example/\tdomain\tphishing\tblocks\n', 1, 'TAB kind'],
    ['a.example/\tdomain\tphishing\tbloc\n', 1, 'TAB kind'],
    ['a.example/\tdomain\t\tblock\n', 1, 'TAB kind'],
    ['a.example/\tdomain\tphishing\tblock\n\tdomain\tfraud\tblock\n', 2, 'empty'],
    ['a.example/\tdomain\tphishing\tblock\nb.example/\u00e9\tdomain\tphishing\tblock\n', 2, 'printable'],
    ['a.example/\tdomain\tphishing\tblock\nb', 2, 'LF'],
    // Words with the right first letter and length but another spelling, or cut off by the end.
    ['a.example/\tdomain\tphishinh\tblock\n', 1, 'TAB kind'],
    ['a.example/\tdomaim\tphishing\tblock\n', 1, 'TAB kind'],
    ['a.example/\tdomain\tphishing\tblocc\n', 1, 'TAB kind'],
    ['a.example/\tdomainx\tphishing\tblock\n', 1, 'TAB kind'],
    ['a.example/\tdomain\tphishing\tred', 1, 'LF'],
    ['a.example/\tu', 1, 'LF'],
  ])('rejects the snapshot %j at line %i', (payload, line, words) => {
    expectBadPayload(indexSnapshot(utf8(payload)), line, words);
  });

  it('finds a tail by the first letters of its words, which must differ within a field', () => {
    expect(wordsByFirstByte(CATEGORIES)[0x6d]).toBe(CATEGORIES.indexOf('malware'));
    expect(wordsByFirstByte(ACTIONS)[0x78]).toBe(-1);
    expect(() => wordsByFirstByte(['block', 'bounce'])).toThrow(
      /"bounce" does not start with a letter of its own/,
    );
  });

  it.each([
    ['-\ta.example/', 1, 'LF'],
    ['*\ta.example/\n', 1, '"+" or "-"'],
    ['-a.example/\n', 1, '"+" or "-"'],
    ['-\ta.example/\tdomain\tphishing\tblock\n', 1, 'only the expression'],
    ['+\ta.example/\n', 1, 'TAB kind'],
    ['-\tb.example/\n-\ta.example/\n', 2, 'sorted'],
    ['-\ta.example/\n-\ta.example/\n', 2, 'duplicated'],
    ['+\ta.example/\tdomain\tfraud\tblock\n-\ta.example/\n', 2, 'sorted'],
    ['-\t\n', 1, 'empty'],
  ])('rejects the delta %j at line %i', (payload, line, words) => {
    expectBadPayload(decodeDelta(utf8(payload)), line, words);
  });
});

describe('PlainState', () => {
  const state = PlainState.fromEntries([
    domain('c.example/'),
    domain('a.example/'),
    domain('b.example/', 'fraud'),
  ]);

  it('keeps entries sorted and answers lookups', () => {
    expect([...state.entries()].map((e) => e.expression)).toEqual(['a.example/', 'b.example/', 'c.example/']);
    expect(state.entryCount).toBe(3);
    expect(state.get('b.example/')).toEqual(domain('b.example/', 'fraud'));
    expect(state.get('b.example')).toBeUndefined();
    expect(state.get('bb.example/')).toBeUndefined();
    expect(state.get('é')).toBeUndefined();
    expect(state.isBlocked(['x.example/', 'c.example/'])).toBe(true);
    expect(state.isBlocked(['x.example/'])).toBe(false);
    expect(PlainState.empty().entryCount).toBe(0);
  });

  it('has a checksum the hub computes from sorted entries without a state', async () => {
    const sorted = [...state.entries()];
    expect(await state.checksum()).toBe(plainChecksum(sorted));
    expect(await state.checksum()).toBe(setHash(state.toSnapshotPayload()));
    expect(await PlainState.empty().checksum()).toBe('0'.repeat(64));
    // Lines of every length around SHA-256's 64-byte blocks and their 55/56-byte padding edge.
    for (let length = 40; length < 140; length++) {
      const long = PlainState.fromEntries([domain(`${'x'.repeat(length)}.example/`), domain('a.example/')]);
      expect(await long.checksum()).toBe(setHash(long.toSnapshotPayload()));
    }
  });

  it('checksums the set of lines: the sum of their SHA-256 modulo 2^256, whatever the order of changes', async () => {
    const a = PlainState.fromEntries([domain('a.example/')]);
    const ab = a.applyDelta(utf8('+\tb.example/\tdomain\tphishing\tblock\n'));
    const b = PlainState.fromEntries([domain('b.example/')]);
    const ba = b.applyDelta(utf8('+\ta.example/\tdomain\tphishing\tblock\n'));
    if (!ab.ok || !ba.ok) throw new Error('delta refused');
    expect(await ab.value.checksum()).toBe(await ba.value.checksum());
    expect(await ab.value.checksum()).toBe(
      setHash(utf8('a.example/\tdomain\tphishing\tblock\nb.example/\tdomain\tphishing\tblock\n')),
    );
  });

  it('applies deltas across many chunks of a large state like a state built from scratch', async () => {
    const names = (from: number, to: number, step = 1) =>
      Array.from({ length: Math.ceil((to - from) / step) }, (_, i) =>
        domain(`n${String(from + i * step).padStart(6, '0')}.example/`),
      );
    const big = PlainState.fromEntries(names(0, 10_000));
    // Removes every third entry, adds 3 000 new ones in one chunk's range (it splits) and others all over.
    const removed = names(0, 10_000, 3);
    const added = [...names(20_000, 23_000), ...names(10_000, 10_400)].map((e) => ({
      ...e,
      expression: `m${e.expression}`,
    }));
    const changes = [
      ...removed.map((e) => ({ op: 'remove' as const, expression: e.expression })),
      ...added.map((e) => ({ op: 'add' as const, ...e })),
    ];
    const next = big.applyDelta(encodeDelta(changes));
    if (!next.ok) throw new Error(next.error.message);
    const removedSet = new Set(removed.map((e) => e.expression));
    const expected = PlainState.fromEntries([
      ...names(0, 10_000).filter((e) => !removedSet.has(e.expression)),
      ...added,
    ]);
    expect(next.value.entryCount).toBe(expected.entryCount);
    expect(next.value.toSnapshotPayload()).toEqual(expected.toSnapshotPayload());
    expect(await next.value.checksum()).toBe(await expected.checksum());
    expect(next.value.has('mn020500.example/')).toBe(true);
    expect(next.value.has('n000003.example/')).toBe(false);
    expect(next.value.has('n000004.example/')).toBe(true);
    // Back to empty, chunk by chunk.
    const emptied = next.value.applyDelta(
      encodeDelta(
        [...next.value.entries()].map((e) => ({ op: 'remove' as const, expression: e.expression })),
      ),
    );
    expect(emptied.ok && emptied.value.entryCount).toBe(0);
    expect(emptied.ok && (await emptied.value.checksum())).toBe('0'.repeat(64));
  });

  it('copies a snapshot payload so later writes to the buffer do not reach the state', () => {
    const payload = encodeSnapshot([domain('a.example/')]);
    const loaded = PlainState.fromSnapshot(payload);
    payload[0] = 0x7a;
    expect(loaded.ok && [...loaded.value.entries()][0]?.expression).toBe('a.example/');
  });

  it('applies a delta into a new state and leaves the old one as it was', async () => {
    const before = await state.checksum();
    const next = state.applyDelta(
      utf8('-\ta.example/\n-\tb.example/\n+\tb.example/\tdomain\tcsam\tredirect\n'),
    );
    if (!next.ok) throw new Error(next.error.message);
    expect([...next.value.entries()]).toEqual([
      { expression: 'b.example/', kind: 'domain', category: 'csam', action: 'redirect' },
      domain('c.example/'),
    ]);
    expect(await state.checksum()).toBe(before);
    expect(state.entryCount).toBe(3);
  });

  it('asks for a resync when a delta does not fit the state', () => {
    expect(state.applyDelta(utf8('-\tz.example/\n'))).toMatchObject({
      ok: false,
      error: { code: 'resync_required' },
    });
    const addPresent = state.applyDelta(utf8('+\ta.example/\tdomain\tphishing\tblock\n'));
    expect(addPresent).toMatchObject({ ok: false, error: { code: 'resync_required' } });
    expect(state.applyDelta(utf8('-\ta.example/'))).toMatchObject({
      ok: false,
      error: { code: 'bad_payload' },
    });
  });

  it('diff and applyDelta are a pure pair: a.applyDelta(diff(a, b)) is b', async () => {
    await fc.assert(
      fc.asyncProperty(stateArb, stateArb, async (a, b) => {
        const next = a.applyDelta(encodeDelta(diff(a, b)));
        if (!next.ok) throw new Error(next.error.message);
        expect([...next.value.entries()]).toEqual([...b.entries()]);
        expect(await next.value.checksum()).toBe(await b.checksum());
        expect(next.value.toSnapshotPayload()).toEqual(b.toSnapshotPayload());
      }),
      { numRuns: 300 },
    );
  });

  it('diff of a state with itself is empty, and a snapshot payload round-trips', () => {
    fc.assert(
      fc.property(stateArb, (a) => {
        expect(diff(a, a)).toEqual([]);
        const again = PlainState.fromSnapshot(a.toSnapshotPayload());
        expect(again.ok && [...again.value.entries()]).toEqual([...a.entries()]);
      }),
    );
  });

  it('chains deltas: applying diff(a, b) then diff(b, c) equals c', () => {
    fc.assert(
      fc.property(stateArb, stateArb, stateArb, (a, b, c) => {
        const ab = a.applyDelta(encodeDelta(diff(a, b)));
        const bc = ab.ok ? ab.value.applyDelta(encodeDelta(diff(b, c))) : ab;
        expect(bc.ok && bc.value.toSnapshotPayload()).toEqual(c.toSnapshotPayload());
      }),
      { numRuns: 100 },
    );
  });
});

describe('PlainState bytes', () => {
  const entries = Array.from({ length: 3000 }, (_, i) => domain(`n${String(i).padStart(5, '0')}.example/`));
  const payload = encodeSnapshot(entries);

  it("adopts a payload without copying it with 'adopt', and copies it by default", () => {
    const adopted = PlainState.fromSnapshot(payload, 'adopt');
    const copied = PlainState.fromSnapshot(payload);
    if (!adopted.ok || !copied.ok) throw new Error('not loaded');
    const [adoptedPart] = adopted.value.snapshotParts();
    const [copiedPart] = copied.value.snapshotParts();
    expect(adoptedPart?.buffer).toBe(payload.buffer);
    expect(copiedPart?.buffer).not.toBe(payload.buffer);
    expect(text(copiedPart as Uint8Array)).toBe(text(payload));
  });

  it('gives its snapshot payload as parts of its own bytes, one per buffer, also after deltas', async () => {
    const loaded = PlainState.fromSnapshot(payload, 'adopt');
    if (!loaded.ok) throw new Error(loaded.error.message);
    expect(loaded.value.snapshotParts()).toHaveLength(1);
    const changed = loaded.value.applyDelta(
      encodeDelta([
        { op: 'remove', expression: 'n01500.example/' },
        { op: 'add', ...domain('n01500x.example/', 'fraud') },
      ]),
    );
    if (!changed.ok) throw new Error(changed.error.message);
    const parts = changed.value.snapshotParts();
    expect(parts.length).toBe(3);
    const joined = text(Buffer.concat(parts));
    expect(joined).toBe(text(changed.value.toSnapshotPayload()));
    expect(setHash(utf8(joined))).toBe(await changed.value.checksum());
    expect(joined.split('\n')).toHaveLength(3001);
  });

  it('lists its lines in order as runs over its bytes', () => {
    const state = PlainState.fromEntries([...entries].reverse());
    const lines: string[] = [];
    for (const { bytes, starts } of state.lineRuns()) {
      for (let i = 0; i + 1 < starts.length; i++) {
        lines.push(text(bytes.subarray(starts[i], starts[i + 1])));
      }
    }
    expect(lines.join('')).toBe(text(payload));
  });
});
