import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ImportSession } from '../../src/registry/index.ts';
import { counts, must, reopen, tempRegistry } from './helpers.ts';

const base = { reference: 'LIST/2025', authority: 'Authority', category: 'fraud' as const };

describe('bulk import', () => {
  it('writes one order and one version across many chunks, skipping and reporting rejected targets', () => {
    const { registry } = tempRegistry();
    must(
      registry.createOrder({ ...base, reference: 'OLD', targets: ['old.example', 'gone.example'] }, 'alice'),
    );
    must(registry.revokeEntry('gone.example', 'x', 'alice'));
    const session = must(registry.beginImport(base, 'importer'));
    const first = session.add(['a.example', 'old.example', 'co.uk', 'a.example', 'bad host', 'gone.example']);
    expect(first).toMatchObject({ added: 2, alreadyActive: 1, duplicate: 1 });
    expect(first.rejected.map((r) => [r.target, r.code])).toEqual([
      ['co.uk', 'public_suffix'],
      ['bad host', expect.any(String)],
    ]);
    expect(session.add(['A.example', 'b.example', 'old.example'])).toMatchObject({
      added: 1,
      alreadyActive: 0,
      duplicate: 2,
    });
    const busy = registry.createOrder({ ...base, targets: ['x.example'] }, 'alice');
    expect(!busy.ok && busy.error.code).toBe('import_in_progress');
    expect(registry.expireDue()).toBeNull();
    const done = session.commit();
    expect(done.version).toBe(3);
    expect(done.totals).toEqual({ added: 3, alreadyActive: 1, duplicate: 3, rejected: 2 });
    expect(done.order).toMatchObject({ id: 2, entryCount: 4, status: 'active' });
    expect(registry.versionInfo(3)).toMatchObject({ kind: 'import', actor: 'importer', adds: 3 });
    expect(registry.getEntry('gone.example/')).toMatchObject({ active: true, orderId: 2 });
    expect(registry.verifyChain().ok).toBe(true);
    expect(() => session.add(['c.example'])).toThrow(/already committed or aborted/);
    expect(must(registry.createOrder({ ...base, targets: ['x.example'] }, 'alice')).version).toBe(4);
  });

  it('leaves nothing behind when aborted', () => {
    const { registry, path } = tempRegistry();
    must(registry.createOrder({ ...base, targets: ['keep.example'] }, 'alice'));
    const before = counts(path);
    const session = must(registry.beginImport({ ...base, override: { reason: 'bulk' } }, 'importer'));
    session.add(Array.from({ length: 5000 }, (_, i) => `x${i}.example`));
    session.abort();
    expect(counts(path)).toEqual(before);
    expect(registry.currentVersion()).toBe(1);
    expect(must(registry.beginImport(base, 'importer')).open).toBe(true);
  });

  it('makes writers of another connection fail fast and typed while an import holds the lock', () => {
    const { registry, path } = tempRegistry();
    const { token } = must(registry.createToken('regulator', 'ministry'));
    const other = reopen(path, { busyTimeoutMs: 50 });
    const session = must(registry.beginImport(base, 'importer'));
    session.add(['a.example']);
    const r = other.createOrder({ ...base, targets: ['b.example'] }, 'alice');
    expect(!r.ok && r.error.code).toBe('import_in_progress');
    expect(other.expireDue()).toBeNull();
    const second = other.beginImport(base, 'importer');
    expect(!second.ok && second.error.code).toBe('import_in_progress');
    // Reads and authentication go on from the last committed state.
    expect(other.authenticate(token)?.name).toBe('ministry');
    expect(other.currentVersion()).toBe(0);
    session.commit();
    expect(other.currentVersion()).toBe(1);
    expect(must(other.createOrder({ ...base, targets: ['b.example'] }, 'alice')).version).toBe(2);
  });

  it('validates the order before opening a session', () => {
    const { registry } = tempRegistry();
    const r = registry.beginImport({ ...base, category: 'nope' as never }, 'importer');
    expect(!r.ok && r.error.code).toBe('invalid_input');
    const open: ImportSession = must(registry.beginImport(base, 'importer'));
    const second = registry.beginImport(base, 'importer');
    expect(!second.ok && second.error.code).toBe('import_in_progress');
    open.abort();
  });
});

const CHILD = fileURLToPath(new URL('./import-child.ts', import.meta.url));

/** Runs import-child.ts; resolves with its output once `until` matches a line (then SIGKILLs it) or it exits. */
function runChild(path: string, count: number, mode: 'commit' | 'hold', until?: (line: string) => boolean) {
  return new Promise<{ lines: string[]; killed: boolean; code: number | null }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(count), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    let killed = false;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (!killed && until?.(line)) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!killed && code !== 0) reject(new Error(`import child failed (${code ?? signal}): ${stderr}`));
      else resolve({ lines, killed, code });
    });
  });
}

describe('bulk import crash safety', () => {
  it('leaves none of an import killed mid-way (SIGKILL), and a later import lands whole', async () => {
    const { registry, path } = tempRegistry();
    must(registry.createOrder({ ...base, reference: 'BEFORE', targets: ['before.example'] }, 'alice'));
    registry.close();

    const killed = await runChild(path, 1_000_000, 'hold', (line) => Number(line.split(' ')[1]) >= 300_000);
    expect(killed.killed).toBe(true);
    expect(killed.lines.at(-1)).toMatch(/^progress \d+$/);
    // The uncommitted import had reached the disk (pages spilled into the WAL) before the kill.
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1_000_000);

    const after = reopen(path);
    expect(after.currentVersion()).toBe(1);
    expect(counts(path)).toMatchObject({ versions: 1, orders: 1, entries: 1, order_entries: 1, changes: 1 });
    expect(after.verifyChain()).toEqual({ ok: true, rows: 1 });
    after.close();

    const complete = await runChild(path, 200_000, 'commit');
    expect(complete.lines.at(-1)).toBe('committed 2 200000');
    const final = reopen(path);
    expect(final.currentVersion()).toBe(2);
    expect(must(final.getOrder(2)).order).toMatchObject({ reference: 'BULK/1', entryCount: 200_000 });
    expect(final.verifyChain()).toEqual({ ok: true, rows: 200_001 });
  }, 180_000);
});
