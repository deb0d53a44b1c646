import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Change } from '../core/types.ts';
import { type RenderOptions, resolveRenderOptions } from '../render/options.ts';
import { serialNewer, zoneSerial } from '../render/serial.ts';
import { changeRecords, DEFAULT_PIECE_RECORDS, TransferJournal } from './journal.ts';
import { DEFAULT_LOG_LIMIT, type LogLimit, limitLog } from './log-limiter.ts';
import { DEFAULT_NOTIFY_RETRY, Notifier, type NotifyRetry, type NotifyTarget } from './notify.ts';
import {
  type Client,
  type DnsLogEvent,
  type ResponderConfig,
  respond,
  type ZoneSource,
} from './responder.ts';
import { DEFAULT_TCP_LIMITS, TcpAdmission, type TcpLimits } from './tcp-admission.ts';
import { serveTcpConnection } from './tcp-connection.ts';
import { createTransferAcl } from './transfer-acl.ts';
import { resolveTsigKeys, type TsigKey } from './tsig.ts';
import { apexAnswers } from './zone-records.ts';

/** Configuration of a policy-zone primary; everything is validated when it is created. */
export interface RpzPrimaryOptions extends ZoneSource {
  /** Zone name, TTL, SOA names, walled garden: the same options the RPZ file renderer takes. */
  render?: Partial<RenderOptions>;
  /** Keys a secondary may sign its requests with; a verified request may always transfer. */
  tsigKeys?: readonly TsigKey[];
  /**
   * Addresses / CIDR blocks that may transfer without TSIG. Unset: loopback only when no keys
   * are configured, nobody unsigned otherwise.
   */
  allowTransfer?: readonly string[];
  /** Secondaries to NOTIFY on every publish. */
  notify?: readonly NotifyTarget[];
  notifyRetry?: Partial<NotifyRetry>;
  /** Versions of differences kept for IXFR; an older secondary gets the whole zone. Default 100. */
  journalVersions?: number;
  /** Records kept for IXFR over all those versions (DEFAULT_JOURNAL_RECORDS); a larger version restarts it. */
  journalRecords?: number;
  /**
   * Records per IXFR answer to a secondary this primary NOTIFYs (DEFAULT_PIECE_RECORDS): a larger
   * difference goes out in several transfers, the pieces of a large version each under its own SOA
   * serial, each followed by a NOTIFY to that address, so a resolver that applies a transfer in its
   * query thread (Unbound) never stops answering for long. Other secondaries could not be called back
   * before their SOA refresh, so they get the whole difference at once. 0: every difference whole
   * (BIND rebuilds its RPZ index once per serial it transfers).
   */
  pieceRecords?: number;
  log?: (event: DnsLogEvent) => void;
  /** Connection caps and deadlines of the TCP listener (DEFAULT_TCP_LIMITS). */
  tcpLimits?: Partial<TcpLimits>;
  /** How many peer-driven events (malformed, refused, TSIG failures) are logged per interval. */
  logLimit?: Partial<LogLimit>;
}

export interface RpzPrimary {
  /** Serves UDP and TCP on `host:port` (port 0: one the system picks for both). */
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  /**
   * Records that the source now serves `version`, reached from the previously published (or
   * initial) version by `changes` (null: a fresh state, journal restarted), then NOTIFYs the
   * secondaries. Call it after the source moved.
   */
  publish(version: number, changes: Iterable<Change> | null): void;
  close(): Promise<void>;
  readonly address: { host: string; port: number } | undefined;
  /** The zone origin, absolute (`rpz.takedown.`). */
  readonly zone: string;
}

function listenTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** An IPv4 peer as a dual-stack socket reports it (`::ffff:192.0.2.1`) in its plain form. */
const plainAddress = (address: string) => address.replace(/^::ffff:(?=\d+\.)/i, '').toLowerCase();

/** How long after sending a piece its secondary is NOTIFYed of the next (see `onPartialTransfer`). */
const PIECE_NOTIFY_DELAY_MS = 200;

/**
 * A DNS primary for the RPZ policy zone: SOA/NS and policy-name queries, AXFR (RFC 5936) and IXFR
 * (RFC 1995) from an in-memory journal, NOTIFY (RFC 1996) and TSIG (RFC 8945). The zone's records
 * come from `rpzRecords`, exactly as the zone-file renderer writes them.
 */
export function createRpzPrimary(config: RpzPrimaryOptions): RpzPrimary {
  const options = resolveRenderOptions(config.render);
  const keys = resolveTsigKeys(config.tsigKeys ?? []);
  const limitedLog = limitLog(config.log ?? (() => {}), { ...DEFAULT_LOG_LIMIT, ...config.logLimit });
  const log = limitedLog.log;
  const limits = { ...DEFAULT_TCP_LIMITS, ...config.tcpLimits };
  const acl = createTransferAcl(config.allowTransfer, keys.size > 0);
  const admission = new TcpAdmission(limits, (address) => acl(address, false));
  const pieceRecords =
    config.pieceRecords === 0 ? Number.MAX_SAFE_INTEGER : (config.pieceRecords ?? DEFAULT_PIECE_RECORDS);
  const journal = new TransferJournal(
    config.journalVersions ?? 100,
    config.version(),
    pieceRecords,
    config.journalRecords,
  );
  const notified = new Set((config.notify ?? []).map((target) => plainAddress(target.host)));
  const notifier = new Notifier(
    options.zone,
    config.notify ?? [],
    keys,
    { ...DEFAULT_NOTIFY_RETRY, ...config.notifyRetry },
    log,
  );
  const responder: ResponderConfig = {
    options,
    source: {
      entries: config.entries,
      version: config.version,
      ...(config.lookup ? { lookup: config.lookup } : {}),
    },
    keys,
    acl,
    journal,
    log,
    pieceBudget: (client) =>
      notified.has(plainAddress(client.address)) ? pieceRecords : Number.POSITIVE_INFINITY,
    // The pieces still to come reach the secondary by the next IXFR this NOTIFY starts. Sent at once, it
    // reached Unbound while it was still applying the piece, and Unbound then waited about 6 s before asking
    // again (a 10 000-name version took 27 s instead of 0.4 s on an idle machine): it waits a moment.
    onPartialTransfer: (client) => {
      const timer = setTimeout(() => {
        pieceNotices.delete(timer);
        notifier.notify(apexAnswers(journal.headVersion, options).soa, plainAddress(client.address));
      }, PIECE_NOTIFY_DELAY_MS);
      pieceNotices.add(timer);
    },
  };
  const pieceNotices = new Set<ReturnType<typeof setTimeout>>();
  const connections = new Set<Socket>();
  let tcp: Server | undefined;
  let udp: UdpSocket | undefined;
  let address: { host: string; port: number } | undefined;

  const handle = (message: Buffer, client: Client) =>
    respond(message, client, responder).catch((error: Error) => {
      log({
        event: 'error',
        client: `${client.address}#${client.port}`,
        message: `request failed: ${error.message}`,
      });
      return undefined;
    });

  const onUdp = (socket: UdpSocket) => (message: Buffer, remote: { address: string; port: number }) => {
    void handle(message, { address: remote.address, port: remote.port, transport: 'udp' }).then((reply) => {
      if (Buffer.isBuffer(reply)) socket.send(reply, remote.port, remote.address);
    });
  };

  const onConnection = (socket: Socket) => {
    const client: Client = {
      address: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      transport: 'tcp',
    };
    const peer = `${client.address}#${client.port}`;
    const slot = admission.admit(client.address, () => socket.destroy());
    if (typeof slot === 'string') {
      const why = slot === 'per-client' ? `${limits.perClient} from this address` : 'no free slot';
      log({ event: 'refused', client: peer, message: `TCP connection refused: ${why}` });
      socket.resetAndDestroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => {
      connections.delete(socket);
      slot.release();
    });
    client.tsigVerified = slot.promote;
    serveTcpConnection(
      socket,
      (message) => handle(message, client),
      (error) => log({ event: 'error', client: peer, message: `TCP: ${error.message}` }),
      limits,
    );
  };

  async function close(): Promise<void> {
    for (const timer of pieceNotices) clearTimeout(timer);
    pieceNotices.clear();
    await notifier.close();
    limitedLog.flush();
    for (const socket of connections) socket.destroy();
    const server = tcp;
    const socket = udp;
    tcp = undefined;
    udp = undefined;
    address = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  return {
    zone: options.zone,
    get address() {
      return address;
    },
    async listen(host, port) {
      if (tcp) throw new Error(`the RPZ primary already listens on ${address?.host}#${address?.port}`);
      tcp = createServer(onConnection);
      udp = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      udp.on('message', onUdp(udp));
      try {
        const bound = await listenTcp(tcp, host, port);
        await bindUdp(udp, host, bound);
        udp.on('error', (error) => log({ event: 'error', message: `UDP: ${error.message}` }));
        await notifier.open(host);
        address = { host, port: bound };
        return address;
      } catch (error) {
        await close();
        throw error;
      }
    },
    publish(version, changes) {
      const from = journal.headVersion;
      if (!serialNewer(zoneSerial(version), zoneSerial(from))) {
        throw new RangeError(
          `publish: version ${version} does not follow version ${from} (RFC 1982 serials)`,
        );
      }
      // No changes: a fresh state (a first load); secondaries before it get the whole zone, as they do after a
      // version too large to journal (its records are not even built).
      const list = changes === null ? null : [...changes];
      if (list === null || !journal.fits(list.length)) journal.restart(version);
      else journal.append({ fromVersion: from, toVersion: version, ...changeRecords(list, options) });
      notifier.notify(apexAnswers(version, options).soa);
    },
    close,
  };
}
