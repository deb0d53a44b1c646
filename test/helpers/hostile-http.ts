import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

// Answers of a hub, or a proxy in front of it, that never let a client finish: each one writes to a real
// socket on loopback, the way a hostile or broken peer would.

/** An answer that writes to `res` at its own pace. */
export type HostileAnswer = (res: ServerResponse) => void;

/** Headers announcing `length` bytes, then one byte a second. */
export const trickle =
  (length = 1_000_000): HostileAnswer =>
  (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(length) });
    const timer = setInterval(() => {
      if (!res.destroyed) res.write('x');
    }, 1000);
    res.write('x');
    res.once('close', () => clearInterval(timer));
  };

/** Headers, then nothing. */
export const stallAfterHeaders: HostileAnswer = (res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
  res.flushHeaders();
};

/** Nothing at all: the connection is accepted and left open. */
export const stallBeforeHeaders: HostileAnswer = () => undefined;

/** A small gzip body that expands to `expandedBytes` zero bytes. */
export const gzipBomb = (expandedBytes: number): HostileAnswer => {
  const body = gzipSync(Buffer.alloc(expandedBytes), { level: 9 });
  return (res) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-encoding': 'gzip',
      'content-length': String(body.length),
    });
    res.end(body);
  };
};

/** `total` bytes in chunks of `chunk` bytes every `everyMs`: a large body moving steadily. */
export const steady =
  (total: number, chunk: number, everyMs: number): HostileAnswer =>
  (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      const size = Math.min(chunk, total - sent);
      sent += size;
      if (sent >= total) {
        clearInterval(timer);
        res.end(Buffer.alloc(size));
      } else res.write(Buffer.alloc(size));
    }, everyMs);
  };

/** A server on 127.0.0.1 answering every request with `listener`; `close` drops open connections. */
export async function serveOnLoopback(
  listener: RequestListener,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
