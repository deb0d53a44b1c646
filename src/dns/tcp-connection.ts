import type { Socket } from 'node:net';
import type { Reply } from './responder.ts';

// DNS over TCP (RFC 7766): 2-byte length-prefixed messages, answered one after another; a transfer's
// messages are written only as fast as the client reads them (back-pressure), and a client that
// sends garbage, stalls or pipelines without reading is disconnected. Each request must arrive whole
// within a deadline that starts when the connection waits for it: a peer that trickles one byte at a
// time cannot hold a connection open longer than that (an idle timer reset by every byte could).

/** Requests buffered while an answer is still being written; past this, reading pauses. */
const MAX_PENDING = 16;

export interface TcpTimeouts {
  /** From waiting for a request to having it whole. */
  messageTimeoutMs: number;
  /** For one answer frame to be taken by a client that does not read. */
  writeTimeoutMs: number;
}

function waitForDrain(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('connection closed during the transfer'));
    const timer = setTimeout(
      () => done(new Error(`client read nothing for ${timeoutMs} ms during the transfer`)),
      timeoutMs,
    );
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

async function writeFrame(socket: Socket, message: Buffer, timeoutMs: number): Promise<void> {
  if (socket.destroyed) throw new Error('connection closed during the transfer');
  const frame = Buffer.allocUnsafe(2 + message.length);
  frame.writeUInt16BE(message.length, 0);
  message.copy(frame, 2);
  if (!socket.write(frame)) await waitForDrain(socket, timeoutMs);
}

/**
 * Serves one TCP connection: `handle` answers each request (a message, a stream of messages, or
 * undefined to close the connection); `onError` hears about failures that end the connection.
 */
export function serveTcpConnection(
  socket: Socket,
  handle: (message: Buffer) => Promise<Reply>,
  onError: (error: Error) => void,
  timeouts: TcpTimeouts,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  const pending: Buffer[] = [];
  let busy = false;
  let deadline: ReturnType<typeof setTimeout> | undefined;

  const awaitRequest = () => {
    if (deadline === undefined && !socket.destroyed)
      deadline = setTimeout(() => socket.destroy(), timeouts.messageTimeoutMs);
  };
  const requestArrived = () => {
    clearTimeout(deadline);
    deadline = undefined;
  };

  awaitRequest();
  socket.on('close', requestArrived);
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
        if (Buffer.isBuffer(reply)) await writeFrame(socket, reply, timeouts.writeTimeoutMs);
        else for await (const message of reply) await writeFrame(socket, message, timeouts.writeTimeoutMs);
      }
      awaitRequest();
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
    if (!busy && pending.length > 0) {
      requestArrived();
      void work();
    }
  });
}
