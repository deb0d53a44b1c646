import { BlockList, isIP } from 'node:net';

// Who may pull the policy zone. A TSIG-verified request always may; otherwise the client address
// must be on the configured list, or, with neither keys nor a list configured, be loopback
// (docs/ARCHITECTURE.md: interfaces). Unbound 1.17 cannot sign transfers, so the list is how it gets in.

/** An allow-list entry that is neither an IP address nor a CIDR block; the message names it. */
export class TransferAclError extends Error {
  override name = 'TransferAclError';
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

function buildList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText, extra] = entry.trim().split('/');
    const kind = isIP(address);
    const prefix = prefixText === undefined ? undefined : Number(prefixText);
    const maxPrefix = kind === 6 ? 128 : 32;
    if (
      kind === 0 ||
      extra !== undefined ||
      (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= maxPrefix))
    ) {
      throw new TransferAclError(`allowTransfer: "${entry}" is not an IP address or CIDR block`);
    }
    if (prefix === undefined) list.addAddress(address, family(address));
    else list.addSubnet(address, prefix, family(address));
  }
  return list;
}

// `::ffff:192.0.2.1` is how a dual-stack socket reports an IPv4 client.
const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Decides whether a client may transfer without (or with) a verified TSIG key. */
export type TransferAcl = (address: string, tsigVerified: boolean) => boolean;

/** Builds the transfer policy from the configured allow-list and whether TSIG keys exist. */
export function createTransferAcl(
  allowTransfer: readonly string[] | undefined,
  hasKeys: boolean,
): TransferAcl {
  const list = allowTransfer
    ? buildList(allowTransfer)
    : hasKeys
      ? undefined
      : buildList(['127.0.0.0/8', '::1']);
  return (address, tsigVerified) => {
    if (tsigVerified) return true;
    if (!list) return false;
    const plain = MAPPED_V4.exec(address)?.[1] ?? address;
    if (isIP(plain) === 0) return false;
    return list.check(plain, family(plain));
  };
}
