/**
 * When an artifact says it was created, and so until when consumers accept it.
 *
 * An artifact of version V is dated at V's commit time, so rebuilding unchanged content gives the same
 * bytes. Once half of the time to live has passed since the commit, the date moves forward in whole
 * half-TTL steps: an artifact served at any moment has at least half its TTL left (it is re-signed before
 * it expires), and all artifacts built within one step are byte-identical (hub restarts, several hubs).
 */

/** The `createdAt` of an artifact of a version committed at `committedAt` (ms), built at `now` (ms). */
export function issuedAt(committedAt: number, now: number, ttlMs: number): number {
  const step = Math.max(1, Math.floor(ttlMs / 2));
  return committedAt + Math.floor(Math.max(0, now - committedAt) / step) * step;
}
