import { decodeDelta } from '../core/plain-payload.ts';
import { diff, PlainState } from '../core/plain-state.ts';
import type { Change } from '../core/types.ts';
import type { RenderOptions } from '../render/options.ts';
import { DEFAULT_JOURNAL_RECORDS } from './journal.ts';
import { createRpzPrimary } from './primary.ts';
import type { DnsLogEvent } from './responder.ts';
import type { TsigKey } from './tsig.ts';

/** Where the agent publishes each applied state besides its files: the policy zone it serves over DNS. */
export interface ZoneFeed {
  /**
   * The zone now holds `state` at `version`, reached from the previous one by `changes` (null: not known,
   * computed by comparing both states).
   */
  publish(version: number, state: PlainState, changes: readonly Change[] | null): void;
}

export interface ServedZone extends ZoneFeed {
  address: { host: string; port: number };
  close(): Promise<void>;
}

export interface ServeZoneOptions {
  host: string;
  port: number;
  render: RenderOptions;
  /** Secondaries (resolvers) to NOTIFY on every publish. */
  notify: ReadonlyArray<{ host: string; port: number }>;
  /** TSIG keys secondaries sign transfers with (one per ISP). */
  tsigKeys?: readonly TsigKey[];
  /** Addresses / CIDR blocks that may transfer unsigned; default loopback when no key is configured. */
  allowTransfer?: readonly string[];
  /** Records per IXFR answer (the primary's `pieceRecords`). */
  pieceRecords?: number;
  /** Records the IXFR journal keeps (the primary's `journalRecords`). */
  journalRecords?: number;
  log: (event: DnsLogEvent) => void;
}

/**
 * Serves the agent's state as the RPZ policy zone (AXFR/IXFR, NOTIFY) on `host:port`: a resolver
 * transfers only the difference of each version instead of reloading a whole zone file. Without TSIG
 * keys or an allow list, transfers are allowed from loopback only. The sync agent mounts it on its
 * verified state, the hub on its `dns` feed.
 */
export async function serveZone(options: ServeZoneOptions): Promise<ServedZone> {
  let current = { version: 0, state: PlainState.empty() };
  const journalRecords = options.journalRecords ?? DEFAULT_JOURNAL_RECORDS;
  const primary = createRpzPrimary({
    render: options.render,
    entries: () => current.state.entries(),
    version: () => current.version,
    lookup: (expression) => current.state.get(expression),
    notify: options.notify,
    log: options.log,
    ...(options.tsigKeys && { tsigKeys: options.tsigKeys }),
    ...(options.allowTransfer && { allowTransfer: options.allowTransfer }),
    ...(options.pieceRecords !== undefined && { pieceRecords: options.pieceRecords }),
    journalRecords,
  });
  const address = await primary.listen(options.host, options.port);
  return {
    address,
    publish(version, state, changes) {
      // The same version again (its state on other buffers): served from the new one, nothing to transfer.
      if (version === current.version) {
        current = { version, state };
        return;
      }
      const previous = current;
      current = { version, state };
      // The first state has no predecessor any resolver could hold: journal nothing (a 1M-name zone
      // would otherwise sit in the journal as one million adds). Nor is a difference computed that the
      // journal would not keep anyway (a revoke of millions of names, applied by a rescan).
      const fresh = previous.version === 0 && previous.state.entryCount === 0;
      const tooLarge = Math.abs(previous.state.entryCount - state.entryCount) > journalRecords;
      if (fresh || (changes === null && tooLarge)) primary.publish(version, null);
      else primary.publish(version, changes ?? diff(previous.state, state));
    },
    close: () => primary.close(),
  };
}

/**
 * The changes from `previous` to `next`: read from the delta payload that made `next` when there is
 * one (removes take their entry from `previous`), else computed by a merge of both states.
 */
export function zoneChanges(previous: PlainState, next: PlainState, deltaPayload?: Uint8Array): Change[] {
  if (deltaPayload === undefined) return diff(previous, next);
  const decoded = decodeDelta(deltaPayload);
  if (!decoded.ok) return diff(previous, next);
  return decoded.value.flatMap((change): Change[] => {
    if (change.op === 'add') return [change];
    const entry = previous.get(change.expression);
    return entry ? [{ op: 'remove', ...entry }] : [];
  });
}
