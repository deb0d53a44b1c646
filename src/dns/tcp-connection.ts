import type { Socket } from 'node:net';
import type { Reply } from './responder.ts';

// DNS over TCP (RFC 7766): 2-byte length-prefixed messages, answered one after another; a transfer's
// messages are written only as fast as the client reads them (back-pressure), and a client that
// sends garbage, stalls or pipelines without reading is disconnected.

/** Idle time before a silent or stalled connection is closed. */
const IDLE_MS = 30_000;
/** Requests buffered while an answer is still being written; past this, reading pauses. */
const MAX_PENDING = 16;

function waitForDrain(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('connection closed during the transfer'));
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

async function writeFrame(socket: Socket, message: Buffer): Promise<void> {
  if (socket.destroyed) throw new Error('connection closed during the transfer');
  const frame = Buffer.allocUnsafe(2 + message.length);
  frame.writeUInt16BE(message.length, 0);
  message.copy(frame, 2);
  if (!socket.write(frame)) await waitForDrain(socket);
}

/**
 * Serves one TCP connection: `handle` answers each request (a message, a stream of messages, or
 * undefined to close the connection); `onError` hears about failures that end the connection.
 */
export function serveTcpConnection(
  socket: Socket,
  handle: (message: Buffer) => Promise<Reply>,
  onError: (error: Error) => void,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  const pending: Buffer[] = [];
  let busy = false;

  socket.setTimeout(IDLE_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());

  const work = async () => {
    busy = true;
    try {
      for (let request = pending.shift(); request && !socket.destroyed; request = pending.shift()) {
        if (pending.length < MAX_PENDING && socket.isPaused()) socket.resume();
        const reply = await handle(request);
        if (reply === undefined) {
          socket.destroy();
          return;
        }
        if (Buffer.isBuffer(reply)) await writeFrame(socket, reply);
        else for await (const message of reply) await writeFrame(socket, message);
      }
    } catch (error) {
      if (!socket.destroyed) onError(error as Error);
      socket.destroy();
    } finally {
      busy = false;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length < 12) {
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + length) break;
      pending.push(Buffer.from(buffered.subarray(2, 2 + length)));
      buffered = buffered.subarray(2 + length);
    }
    if (pending.length >= MAX_PENDING) socket.pause();
    if (!busy && pending.length > 0) void work();
  });
}
