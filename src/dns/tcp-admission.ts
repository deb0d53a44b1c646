// Who gets a TCP slot. One address cannot take more than `perClient` connections, and the last
// `reserved` slots of the global cap go only to peers that may transfer: an allow-listed address, or a
// connection whose request carried a valid TSIG signature. Connections that have proven nothing share
// the rest; when it is full, a newcomer replaces the oldest of them, so a flood of idle connections
// from many addresses delays a signing secondary by one round trip instead of locking it out.

/** Connection limits of the primary's TCP listener; defaults in DEFAULT_TCP_LIMITS. */
export interface TcpLimits {
  /** Connections open at once, all peers together. */
  maxConnections: number;
  /** Of those, the slots kept for allow-listed or TSIG-signing peers. */
  reservedConnections: number;
  /** Connections open at once from one address. */
  perClient: number;
  /**
   * How long a connection may take, from the moment it waits for a request (accepted, or its last
   * answer written) until that request has arrived whole; bytes trickling in do not extend it.
   */
  messageTimeoutMs: number;
  /** How long one answer frame may wait for a client that does not read. */
  writeTimeoutMs: number;
}

/** Sized like BIND's `tcp-clients` (150) with room for secondaries; see docs/DECISIONS.md. */
export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: 256,
  reservedConnections: 32,
  perClient: 8,
  messageTimeoutMs: 10_000,
  writeTimeoutMs: 30_000,
};

/** A granted slot. */
export interface TcpSlot {
  /** The connection proved itself (a TSIG-verified request): it leaves the shared pool. */
  promote(): unknown;
  release(): void;
}

/** Why a connection was refused, for the (rate-limited) log. */
export type TcpRefusal = 'per-client' | 'full';

export class TcpAdmission {
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  /** Connections that have proven nothing, oldest first, with how to close each. */
  private readonly unproven = new Map<object, { evict(): void; release(): void }>();

  constructor(
    private readonly limits: TcpLimits,
    /** True for an address that may transfer without TSIG (the allow list). */
    private readonly allowed: (address: string) => boolean,
  ) {}

  /** A slot for a new connection from `address`, or why not; `evict` closes it if it must make room. */
  admit(address: string, evict: () => void): TcpSlot | TcpRefusal {
    const mine = this.perAddress.get(address) ?? 0;
    if (mine >= this.limits.perClient) return 'per-client';
    const listed = this.allowed(address);
    if (!listed && this.unproven.size >= this.limits.maxConnections - this.limits.reservedConnections) {
      const [oldest] = this.unproven.values();
      if (!oldest) return 'full';
      oldest.release();
      oldest.evict();
    }
    if (this.open >= this.limits.maxConnections) return 'full';
    const key = {};
    this.perAddress.set(address, mine + 1);
    this.open++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.open--;
      this.unproven.delete(key);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
    if (!listed) this.unproven.set(key, { evict, release });
    return { promote: () => this.unproven.delete(key), release };
  }
}
