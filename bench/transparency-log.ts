/**
 * The transparency log: (1) what writing the leaves of a 1.5M-entry import costs, against the import itself;
 * (2) inclusion proofs served from the tiles of a 10M-leaf log; (3) consistency proof verification, as a
 * consumer does it before applying a delta.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { signCheckpoint } from '../src/core/checkpoint.ts';
import { generateSigningKey } from '../src/core/keys.ts';
import { checkLogAdvance } from '../src/core/log-consistency.ts';
import { verifyConsistency } from '../src/core/merkle.ts';
import { parseTarget } from '../src/core/target.ts';
import { VersionLeaves } from '../src/registry/log-leaves.ts';
import { TileAppender } from '../src/registry/log-tiles.ts';
import { openRegistry } from '../src/registry/registry.ts';
import { missingData, NRD_LIST, readLines, shownPath } from './lib/data.ts';
import { formatNumber, Recorder } from './lib/result.ts';
import { collectGarbage, cpuNow, measure } from './lib/timing.ts';

const CHUNK = 5000;
const BIG_LOG = 10_000_000;
const PROOFS = 2000;

const rec = new Recorder(
  'transparency-log',
  'Transparency log: leaves, proofs, verification',
  `(1) The ${shownPath(NRD_LIST)} list imported through the registry (\`beginImport\`, ${CHUNK}-name chunks, ` +
    '`commit`; the leaves are written in the same transaction), and the leaf work alone: the same rows through ' +
    '`VersionLeaves.change` (leaf encoding, SHA-256, tiles, head) in one transaction on a fresh file. (2) A log of ' +
    `${formatNumber(BIG_LOG)} leaves (random leaf hashes appended through the tile writer), then ${PROOFS} inclusion ` +
    'proofs of random leaves through `Registry.logInclusionProof` (tile reads and hashing), and (3) as many ' +
    'consistency proofs from random smaller sizes to the whole log, each verified with `verifyConsistency`. ' +
    'Per-operation times are CPU time (process.cpuUsage, microsecond resolution, GC included): on 2 shared ' +
    'cores, wall-clock percentiles of sub-millisecond operations measure the scheduler.',
);

/** The leaf work of an import, alone: the same rows through the log writer. */
function leavesAlone(expressions: readonly string[], dir: string): number {
  const path = join(dir, 'leaves.db');
  openRegistry(path, { protectedDomainsFile: null }).close();
  const db = new Database(path);
  db.pragma('synchronous = FULL');
  db.exec(`INSERT INTO versions (version, created_at, kind, actor, summary, head_hash)
    VALUES (1, '2025-01-01T00:00:00.000Z', 'import', 'bench', 'bench', zeroblob(32));
    INSERT INTO orders (id, reference, authority, category, action, reason, issued_at, created_at, created_by, version)
    VALUES (1, 'BENCH/1', 'bench', 'other', 'block', NULL, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', 'bench', 1);`);
  const settings = { confidential: ['csam' as const], commitmentKey: () => new Uint8Array(32) };
  const cpu = cpuNow();
  db.transaction(() => {
    const leaves = new VersionLeaves(db, 1, settings);
    for (let i = 0; i < expressions.length; i++) {
      leaves.change(i + 1, 'add', expressions[i] as string, 'other', 'block', 1, '');
    }
    leaves.finish();
  })();
  const spent = cpuNow() - cpu;
  db.close();
  return spent;
}

/** A registry file whose log has `size` leaves (random hashes); version 65 is the whole log. */
function bigLog(dir: string, size: number): string {
  const path = join(dir, 'big.db');
  openRegistry(path, { protectedDomainsFile: null }).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.transaction(() => {
    const tiles = new TileAppender(db, 0);
    const pool = randomBytes(32 * 4096);
    for (let i = 0; i < size; i++) tiles.append(pool.subarray(32 * (i % 4096), 32 * (i % 4096) + 32));
    tiles.flush();
  })();
  // Heads of smaller trees too (any size is a prefix of the big tree): versions 1..64, then the whole log.
  const sizes = Array.from({ length: 64 }, () => 1 + Math.floor(Math.random() * (size - 1))).sort(
    (a, b) => a - b,
  );
  const addVersion = db.prepare(
    `INSERT INTO versions (version, created_at, kind, actor, summary, head_hash)
     VALUES (?, '2025-01-01T00:00:00.000Z', 'import', 'bench', 'bench', zeroblob(32))`,
  );
  const addHead = db.prepare('INSERT INTO log_heads (version, tree_size, root) VALUES (?, ?, ?)');
  db.transaction(() => {
    [...sizes, size].forEach((n, i) => {
      addVersion.run(i + 1);
      addHead.run(i + 1, n, new TileAppender(db, n).root());
    });
  })();
  db.close();
  return path;
}

/** CPU milliseconds of this thread's process: per-operation times that a busy shared core does not inflate. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

async function main() {
  const missing = missingData(NRD_LIST);
  const dir = mkdtempSync(join(tmpdir(), 'takedown-bench-log-'));
  try {
    if (missing) rec.note(`import part skipped: ${missing}`);
    else {
      const names = readLines(NRD_LIST);
      const registry = openRegistry(join(dir, 'import.db'), { protectedDomainsFile: null });
      const session = registry.beginImport(
        { reference: 'BENCH/1', authority: 'bench', category: 'other' },
        'bench',
      );
      if (!session.ok) throw new Error(session.error.message);
      let added = 0;
      const time = await measure(() => {
        for (let i = 0; i < names.length; i += CHUNK) session.value.add(names.slice(i, i + CHUNK));
        added = session.value.commit().totals.added;
      });
      const leaves = registry.logHead()?.treeSize ?? 0;
      registry.close();
      rec.figure(
        'import with its leaves',
        added / time.cpu,
        'entries per CPU s',
        `${time.cpu.toFixed(2)} s CPU, ${leaves} leaves`,
      );
      const expressions: string[] = [];
      for (const name of names) {
        const t = parseTarget(name);
        if (t.ok) expressions.push(t.value.expression);
      }
      collectGarbage();
      const leafCpu = leavesAlone(expressions, dir);
      rec.figure('leaves alone', leafCpu, 'CPU s', `${formatNumber(expressions.length)} leaves`);
      const share = leafCpu / (time.cpu - leafCpu);
      rec.figure('leaves / import without them, CPU time', share * 100, '%');
      rec.goal(
        'appending the leaves of a 1.5M-entry import (CPU time added)',
        '<= 15 %',
        `${(share * 100).toFixed(1)} %`,
        share <= 0.15,
      );
    }

    collectGarbage();
    const build = await measure(() => bigLog(dir, BIG_LOG));
    rec.figure(
      `${formatNumber(BIG_LOG)}-leaf log built`,
      build.cpu,
      'CPU s',
      'tile hashes only (random leaf hashes)',
    );
    const registry = openRegistry(join(dir, 'big.db'), { protectedDomainsFile: null });
    const last = registry.currentVersion();
    const inclusion: number[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const leaf = Math.floor(Math.random() * BIG_LOG);
      const t0 = cpuMs();
      const p = registry.logInclusionProof(last, leaf);
      inclusion.push(cpuMs() - t0);
      if (!p.ok) throw new Error(p.error.message);
    }
    inclusion.sort((a, b) => a - b);
    rec.figure('inclusion proof at 10M leaves, median', percentile(inclusion, 0.5), 'ms');
    rec.figure('inclusion proof at 10M leaves, p99', percentile(inclusion, 0.99), 'ms');
    rec.goal(
      'inclusion proof, 10M-leaf log (p99)',
      '< 5 ms',
      `${percentile(inclusion, 0.99).toFixed(2)} ms`,
      percentile(inclusion, 0.99) < 5,
    );

    // Consistency proofs from a random smaller tree to the whole log, each verified as a consumer would.
    const verify: number[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const p = registry.logConsistencyProof(1 + Math.floor(Math.random() * (last - 1)), last);
      if (!p.ok) throw new Error(p.error.message);
      const { from, to, proof } = p.value;
      const t0 = cpuMs();
      const ok = verifyConsistency(from.treeSize, to.treeSize, proof, from.root, to.root);
      verify.push(cpuMs() - t0);
      if (!ok) throw new Error(`consistency proof ${from.treeSize} -> ${to.treeSize} failed`);
    }
    // The agent's whole check of a new artifact's checkpoint once the proof arrived: the note's signature,
    // then the proof against the held root (the proof's fetch is a network round trip, not CPU).
    const key = await generateSigningKey();
    const agent: number[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const p = registry.logConsistencyProof(1 + Math.floor(Math.random() * (last - 1)), last);
      if (!p.ok) throw new Error(p.error.message);
      const { from, to, proof } = p.value;
      const held = { origin: 'takedown', ...from };
      const note = await signCheckpoint({ origin: 'takedown', ...to }, key);
      const heldNote = { ...held, note: await signCheckpoint(held, key) };
      const t0 = cpuMs();
      const r = await checkLogAdvance(heldNote, note, to.version, [key.publicKey], async () => ({
        ok: true,
        value: proof,
      }));
      agent.push(cpuMs() - t0);
      if (!r.ok) throw new Error(r.error.message);
    }
    registry.close();
    agent.sort((a, b) => a - b);
    rec.figure(
      'agent checkpoint check (signature + proof) at 10M leaves, p99',
      percentile(agent, 0.99),
      'ms',
    );
    verify.sort((a, b) => a - b);
    rec.figure('consistency verification at 10M leaves, median', percentile(verify, 0.5), 'ms');
    rec.figure('consistency verification at 10M leaves, p99', percentile(verify, 0.99), 'ms');
    rec.goal(
      'consistency proof verification (p99)',
      '< 1 ms',
      `${percentile(verify, 0.99).toFixed(3)} ms`,
      percentile(verify, 0.99) < 1,
    );
    return rec.write();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
