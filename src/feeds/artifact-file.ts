/**
 * A signed artifact written to a file as its payload is produced: the payload goes block by block to its
 * place after the header, hashed as it goes, and the header (which binds the payload only by its length
 * and digest) is written in front once the payload is complete. No whole payload is held in memory. The
 * file has a temporary name until it is complete and flushed; then it is renamed to its final one.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { artifactHeaderLength, encodeArtifactHeader, type ManifestInput } from '../core/artifact.ts';
import type { SigningKey } from '../core/keys.ts';
import { tempPathBeside } from '../util/durable-file.ts';

/** What a finished file holds besides its bytes: where it is and what its manifest says of the payload. */
export interface WrittenArtifact {
  path: string;
  payloadLength: number;
  /** Lower-case hex. */
  payloadSha256: string;
}

export class ArtifactFileWriter {
  readonly #temp: string;
  readonly #fd: number;
  readonly #hash: Hash = createHash('sha256');
  readonly #payloadOffset: number;
  #at: number;
  #closed = false;

  /**
   * Opens the artifact that will be `path`, whose manifest will carry `checkpoint` (its length places the
   * payload). Synchronous, like {@link write}: a scan writes inside a synchronous read transaction.
   */
  constructor(
    readonly path: string,
    readonly checkpoint: string,
  ) {
    this.#temp = tempPathBeside(path);
    this.#fd = openSync(this.#temp, 'wx', 0o644);
    this.#payloadOffset = artifactHeaderLength(checkpoint);
    this.#at = this.#payloadOffset;
  }

  /** Appends `bytes` to the payload (the caller may reuse them once this returns). */
  write(bytes: Uint8Array): void {
    writeAll(this.#fd, bytes, this.#at);
    this.#at += bytes.length;
    this.#hash.update(bytes);
  }

  /**
   * Signs the manifest `input` (its checkpoint must be the one given at opening), writes the header, flushes
   * and renames the file to its final path. On failure the file is removed.
   */
  async finish(input: ManifestInput, key: SigningKey): Promise<WrittenArtifact> {
    try {
      if ((input.checkpoint ?? '') !== this.checkpoint)
        throw new Error(`artifact ${this.path}: the manifest's checkpoint is not the one it was opened with`);
      const payload = { length: this.#at - this.#payloadOffset, sha256: this.#hash.digest('hex') };
      const header = await encodeArtifactHeader(input, payload, key);
      writeAll(this.#fd, header, 0);
      fsyncSync(this.#fd);
      this.#close();
      renameSync(this.#temp, this.path);
      return { path: this.path, payloadLength: payload.length, payloadSha256: payload.sha256 };
    } catch (error) {
      this.abandon();
      throw error;
    }
  }

  /** Closes and removes the file, finished or not. */
  abandon(): void {
    this.#close();
    rmSync(this.#temp, { force: true });
    rmSync(this.path, { force: true });
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}
