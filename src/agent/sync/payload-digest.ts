import { createHash } from 'node:crypto';

/**
 * The SHA-256 the agent checks an artifact's payload with, read in place: WebCrypto's digest (the core's
 * default) copies its input first, which for a snapshot of ten million entries is hundreds of MiB more at
 * the agent's peak, and hashes it on another thread.
 */
export const payloadDigest = (payload: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(payload).digest());
