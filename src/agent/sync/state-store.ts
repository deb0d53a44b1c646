import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseCheckpoint } from '../../core/checkpoint.ts';
import type { SavedState } from '../../core/consumer.ts';
import { AGENT_ID } from '../../core/hub-client.ts';
import { exportPublicKey, importPublicKey, type PublicKey } from '../../core/keys.ts';
import type { KeyRing } from '../../core/keyset.ts';
import type { HeldCheckpoint } from '../../core/log-consistency.ts';
import { PlainState } from '../../core/plain-state.ts';
import { fail, ok, type Result } from '../../core/types.ts';
import { syncDirectory, writeFileDurably } from '../../util/durable-file.ts';

/**
 * The agent's local state, one directory:
 *
 *   state.json          what is applied (version, freshness, checksum), the transparency-log checkpoint
 *                       held, the trusted key ring, and what each output last got
 *   entries-<V>.tsv     the entries of version V as the feed's canonical snapshot payload
 *   agent-id            the id this agent reports under, generated on the first start
 *   lock                the pid of the agent running on this directory (state-lock.ts)
 *
 * Both are written to a temporary file and renamed. The entries file of a new version is complete
 * before `state.json` names it, so a crash between the two writes leaves the previous version intact;
 * stale entries files are removed after the switch.
 */

/** What the agent knows about the applied version besides its entries. */
export interface AppliedMeta {
  version: number;
  expiresAt: number;
  /** When the hub created the artifact that brought this version (ms). */
  createdAt: number;
  entryCount: number;
  checksum: string;
  /** When the state was saved (ISO). */
  appliedAt: string;
}

/** What one output last received: `ok` false while its render or reload keeps failing. */
export interface OutputRecord {
  format: string;
  path: string;
  version: number;
  ok: boolean;
  /** When it was rendered and reloaded (or failed to be), ISO. */
  appliedAt: string;
}

/** The state a previous run left. */
export interface LoadedState {
  saved: SavedState<PlainState>;
  meta: AppliedMeta;
}

const STATE_FILE = 'state.json';
const AGENT_ID_FILE = 'agent-id';
const ENTRIES_FILE = /^entries-(\d+)\.tsv$/;

const appliedSchema = z.strictObject({
  version: z.number().int().min(0),
  expiresAt: z.number().int().min(0),
  createdAt: z.number().int().min(0),
  entryCount: z.number().int().min(0),
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  appliedAt: z.string(),
});
const stateSchema = z.strictObject({
  format: z.literal(1),
  feed: z.string(),
  applied: appliedSchema.optional(),
  /**
   * The signed note of the log checkpoint held. Kept when the applied entries are dropped: whatever the
   * agent applies next must still extend the log it saw.
   */
  checkpoint: z.string().optional(),
  trust: z
    .strictObject({
      pinned: z.array(z.string()),
      version: z.number().int().min(1),
      keys: z.array(z.string()).min(1),
    })
    .optional(),
  outputs: z.array(
    z.strictObject({
      format: z.string(),
      path: z.string(),
      version: z.number().int(),
      ok: z.boolean(),
      appliedAt: z.string(),
    }),
  ),
});
type StateDocument = z.infer<typeof stateSchema>;

/** A state directory that belongs to another feed, or a `state.json` this code cannot read. */
export class StateDirectoryError extends Error {
  override name = 'StateDirectoryError';
}

export class StateStore {
  readonly dir: string;
  #doc: StateDocument;
  readonly checkpoint: HeldCheckpoint | null;

  private constructor(dir: string, doc: StateDocument, checkpoint: HeldCheckpoint | null = null) {
    this.dir = dir;
    this.#doc = doc;
    this.checkpoint = checkpoint;
  }

  /**
   * Opens (creating it if needed) the state directory of `feed`; throws {@link StateDirectoryError}
   * when it holds another feed's state or an unreadable `state.json`.
   */
  static async open(dir: string, feed: string): Promise<StateStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await removeTemporaryFiles(dir);
    let text: string;
    try {
      text = await readFile(join(dir, STATE_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return new StateStore(dir, { format: 1, feed, outputs: [] });
    }
    let parsed: ReturnType<typeof stateSchema.safeParse>;
    try {
      parsed = stateSchema.safeParse(JSON.parse(text));
    } catch {
      throw new StateDirectoryError(`${join(dir, STATE_FILE)} is not JSON`);
    }
    if (!parsed.success) {
      throw new StateDirectoryError(
        `${join(dir, STATE_FILE)} is not an agent state: ${parsed.error.message}`,
      );
    }
    if (parsed.data.feed !== feed) {
      throw new StateDirectoryError(`state directory ${dir} holds feed "${parsed.data.feed}", not "${feed}"`);
    }
    const note = parsed.data.checkpoint;
    if (note === undefined) return new StateStore(dir, parsed.data);
    const checkpoint = parseCheckpoint(note);
    if (!checkpoint.ok) {
      throw new StateDirectoryError(`${join(dir, STATE_FILE)}: ${checkpoint.error.message}`);
    }
    return new StateStore(dir, parsed.data, { ...checkpoint.value.checkpoint, note });
  }

  get applied(): AppliedMeta | undefined {
    return this.#doc.applied;
  }

  get outputs(): readonly OutputRecord[] {
    return this.#doc.outputs;
  }

  /**
   * The entries of the applied version, checked against the checksum and count saved with them; a
   * failure (missing or damaged file) means the agent must start again from a snapshot.
   */
  async loadEntries(): Promise<Result<LoadedState | null>> {
    const meta = this.#doc.applied;
    if (!meta) return ok(null);
    const path = join(this.dir, entriesFile(meta.version));
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      return fail('local_state', `cannot read ${path}: ${(error as Error).message}`);
    }
    // The buffer read is the state's own: no copy of a file that may hold ten million entries.
    const state = PlainState.fromSnapshot(bytes, 'adopt');
    if (!state.ok) return fail('local_state', `${path}: ${state.error.message}`);
    const checksum = await state.value.checksum();
    if (checksum !== meta.checksum || state.value.entryCount !== meta.entryCount) {
      return fail('local_state', `${path} does not match the checksum and entry count in ${STATE_FILE}`);
    }
    return ok({ saved: { version: meta.version, state: state.value, expiresAt: meta.expiresAt }, meta });
  }

  /** This agent's id: generated once and kept, so every report from this directory names the same agent. */
  async agentId(): Promise<string> {
    const path = join(this.dir, AGENT_ID_FILE);
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (text === null) {
      const id = crypto.randomUUID();
      await writeFileDurably(path, `${id}\n`);
      return id;
    }
    const id = text.trim();
    if (!AGENT_ID.test(id))
      throw new StateDirectoryError(`${path} does not hold an agent id: "${id.slice(0, 80)}"`);
    return id;
  }

  /** The key ring a previous run followed, if it started from the same pinned keys. */
  async trustedKeys(pinned: readonly PublicKey[]): Promise<KeyRing | undefined> {
    const trust = this.#doc.trust;
    if (!trust || trust.pinned.join(',') !== pinnedIds(pinned)) return undefined;
    const keys: PublicKey[] = [];
    for (const text of trust.keys) {
      const key = await importPublicKey(text);
      if (!key.ok) return undefined;
      keys.push(key.value);
    }
    return { version: trust.version, keys };
  }

  /**
   * Saves the entries of a new applied version, then switches `state.json` to it and to the checkpoint
   * held with it (null: none yet).
   */
  async saveApplied(state: PlainState, meta: AppliedMeta, checkpoint: HeldCheckpoint | null): Promise<void> {
    // From the state's own bytes, part by part: the payload is never joined into one more copy.
    await writeFileDurably(join(this.dir, entriesFile(meta.version)), state.snapshotParts());
    await this.#write({ ...this.#doc, applied: meta, ...(checkpoint && { checkpoint: checkpoint.note }) });
    await this.#removeStaleEntries(meta.version);
  }

  /** Forgets the applied version (its entries failed their check): the next fetch is a snapshot. */
  async clearApplied(): Promise<void> {
    const { applied: _, ...rest } = this.#doc;
    await this.#write(rest);
  }

  async saveOutputs(outputs: readonly OutputRecord[]): Promise<void> {
    await this.#write({ ...this.#doc, outputs: outputs.map((o) => ({ ...o })) });
  }

  /** Saves a key ring followed from `pinned` (key sets only; pinned keys come from configuration). */
  async saveTrust(pinned: readonly PublicKey[], ring: KeyRing): Promise<void> {
    const trust = {
      pinned: pinnedIds(pinned).split(','),
      version: ring.version,
      keys: ring.keys.map(exportPublicKey),
    };
    await this.#write({ ...this.#doc, trust });
  }

  async #write(doc: StateDocument): Promise<void> {
    await writeFileDurably(join(this.dir, STATE_FILE), `${JSON.stringify(doc, null, 2)}\n`);
    this.#doc = doc;
  }

  async #removeStaleEntries(keep: number): Promise<void> {
    const stale = (await readdir(this.dir)).filter((name) => {
      const match = ENTRIES_FILE.exec(name);
      return match !== null && Number(match[1]) !== keep;
    });
    if (stale.length === 0) return;
    await Promise.all(stale.map((name) => rm(join(this.dir, name), { force: true })));
    await syncDirectory(this.dir);
  }
}

/** Temporary files of writes a crash interrupted (the state directory belongs to one agent). */
async function removeTemporaryFiles(dir: string): Promise<void> {
  const temporary = (await readdir(dir)).filter((name) => name.startsWith('.') && name.endsWith('.tmp'));
  await Promise.all(temporary.map((name) => rm(join(dir, name), { force: true })));
}

const entriesFile = (version: number) => `entries-${version}.tsv`;
const pinnedIds = (keys: readonly PublicKey[]) =>
  keys
    .map((k) => k.id)
    .sort()
    .join(',');
