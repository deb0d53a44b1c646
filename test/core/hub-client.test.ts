import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { announcedLengthOf } from '../../src/core/artifact.ts';
import { HubClient } from '../../src/core/hub-client.ts';
import {
  gzipBomb,
  type HostileAnswer,
  serveOnLoopback,
  stallAfterHeaders,
  stallBeforeHeaders,
  steady,
  trickle,
} from '../helpers/hostile-http.ts';
import { REPO_ROOT } from '../helpers/hub.ts';

// The feed client against real sockets on loopback that never finish an answer.

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function clientFor(answer: HostileAnswer, options: { timeoutMs: number; maxBytes?: number }) {
  const hub = await serveOnLoopback((_, res) => answer(res));
  close = hub.close;
  return new HubClient({ hub: hub.url, token: null, maxBytes: options.maxBytes ?? 1 << 20, ...options });
}

/** The outcome and the seconds it took. */
async function timed<T>(run: () => Promise<T>): Promise<{ outcome: T; seconds: number }> {
  const started = performance.now();
  const outcome = await run();
  return { outcome, seconds: (performance.now() - started) / 1000 };
}

// The deadline is 1 s; the bound leaves room for a loaded machine, far below what a hang would take.
const GIVE_UP_BOUND_SECONDS = 4;

describe('one deadline for headers and body', () => {
  it.each([
    ['stalls before the headers', stallBeforeHeaders, 'no answer within 1000 ms'],
    ['stalls after the headers', stallAfterHeaders, 'the body stalled: 0 bytes'],
    ['trickles the body one byte a second', trickle(), 'the body stalled: '],
  ])('gives up on a hub that %s, saying why', async (_, answer, why) => {
    const client = await clientFor(answer, { timeoutMs: 1000 });
    const { outcome, seconds } = await timed(() => client.snapshot('dns'));
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect((outcome as { message: string }).message).toContain(why);
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(GIVE_UP_BOUND_SECONDS);
  });

  it('lets a large body that keeps moving run past the first deadline', async () => {
    // 1.2 MB over about 1.5 s: ten times the minimum rate, three times the base deadline.
    const client = await clientFor(steady(1_200_000, 80_000, 100), {
      timeoutMs: 500,
      maxBytes: 1 << 22,
    });
    const { outcome } = await timed(() => client.snapshot('dns'));
    expect(outcome).toMatchObject({ kind: 'artifact' });
    expect((outcome as { bytes: Uint8Array }).bytes).toHaveLength(1_200_000);
  });

  it('refuses a gzip bomb by the size it expands to', async () => {
    const client = await clientFor(gzipBomb(64 << 20), { timeoutMs: 10_000, maxBytes: 1 << 20 });
    const { outcome } = await timed(() => client.snapshot('dns'));
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'too_large' });
    expect((outcome as { message: string }).message).toContain('exceeds the 1048576 byte limit');
  });

  it('still fires when the garbage collector runs while a caller signal is attached', async () => {
    const probe = fileURLToPath(new URL('./hub-client-gc-probe.ts', import.meta.url));
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', probe], { cwd: REPO_ROOT });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(JSON.parse(out)).toMatchObject({ kind: 'failed', reason: 'timeout' });
  });
});

describe('the body as bytes', () => {
  /** Distinct bytes, so a byte out of place shows. */
  const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

  it.each([
    ['an announced length, in many chunks', { 'content-length': String(body.length) }, false],
    ['no announced length (chunked)', {}, false],
    ['a gzip body, whose announced length is the compressed one', { 'content-encoding': 'gzip' }, true],
  ])('keeps every byte in order with %s', async (_, headers, gzip) => {
    const { gzipSync } = await import('node:zlib');
    const sent = gzip ? gzipSync(body) : body;
    const client = await clientFor(
      (res) => {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          ...headers,
          ...(gzip && { 'content-length': String(sent.length) }),
        });
        for (let at = 0; at < sent.length; at += 16_384) res.write(sent.subarray(at, at + 16_384));
        res.end();
      },
      { timeoutMs: 10_000 },
    );
    const outcome = await client.snapshot('dns');
    expect(outcome.kind).toBe('artifact');
    expect(Buffer.from((outcome as { bytes: Uint8Array }).bytes).equals(body)).toBe(true);
  });

  /** `body` under an artifact header (format 4, no checkpoint) announcing `payload` payload bytes. */
  const withHeader = (payload: number) => {
    const bytes = Buffer.from(body);
    bytes.set([0x89, 0x54, 0x4b, 0x44, 0x0d, 0x0a, 0x1a, 0x0a, 0, 4]);
    bytes.writeBigUInt64BE(BigInt(payload), 59);
    bytes.writeUInt16BE(0, 147);
    return bytes;
  };

  it.each([
    ['the length it has', 0],
    ['fewer bytes than it has', -5_000],
    ['more bytes than it has', 5_000],
  ])('keeps a gzip artifact whole when its header announces %s', async (_, off) => {
    const { gzipSync } = await import('node:zlib');
    const artifact = withHeader(body.length - 213 + off);
    expect(announcedLengthOf(artifact)).toBe(body.length + off);
    const sent = gzipSync(artifact);
    const client = await clientFor(
      (res) => {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(sent.length) });
        for (let at = 0; at < sent.length; at += 16_384) res.write(sent.subarray(at, at + 16_384));
        res.end();
      },
      { timeoutMs: 10_000 },
    );
    const outcome = await client.snapshot('dns');
    expect(Buffer.from((outcome as { bytes: Uint8Array }).bytes).equals(artifact)).toBe(true);
  });

  it('reads no length from too few bytes or from bytes that are no artifact', () => {
    expect(announcedLengthOf(withHeader(10).subarray(0, 148))).toBeUndefined();
    expect(announcedLengthOf(body)).toBeUndefined();
  });

  it('refuses an announced length above the limit', async () => {
    const announced = await clientFor(
      (res) => {
        res.writeHead(200, { 'content-length': String(body.length) });
        res.end(body);
      },
      { timeoutMs: 10_000, maxBytes: body.length - 1 },
    );
    expect(await announced.snapshot('dns')).toMatchObject({ kind: 'failed', reason: 'too_large' });
  });
});
