import type { Answer, DecodedPacket, Question } from 'dns-packet';
import * as dnsPacket from 'dns-packet';
import type { EntrySource, RenderOptions } from '../render/options.ts';
import { compareSerial, zoneSerial } from '../render/serial.ts';
import { FLAG_AA, FLAG_QR, FLAG_RD, OPCODE, opcodeBits, opcodeOf, RCODE } from './dns-codes.ts';
import type { TransferJournal } from './journal.ts';
import type { ResponseHead } from './message-packer.ts';
import type { TransferAcl } from './transfer-acl.ts';
import { type ResolvedTsigKey, TSIG_ERROR, TsigSigner, unsignedTsigError, verifyRequest } from './tsig.ts';
import { type LocatedTsig, locateTsig } from './tsig-record.ts';
import { answerQuery, type EntryLookup } from './zone-query.ts';
import { axfrMessages, ixfrMessages, soaOnlyMessage, type TransferStats } from './zone-transfer.ts';

// One request in, its answer out: parse defensively, check TSIG, apply the transfer policy, and
// answer a query, an AXFR or an IXFR. Nothing here touches a socket.

/** The zone's content as the primary reads it: the current version and its entries, sorted. */
export interface ZoneSource {
  /**
   * A fresh pass over the entries of the version `version()` returns at the time of the call; a
   * transfer holds it for its whole duration, so the source must not change under it.
   */
  entries: () => EntrySource;
  version: () => number;
  /** Optional index for ordinary queries below the apex; without it they scan `entries`. */
  lookup?: EntryLookup;
}

/** Something the primary reports: refusals, TSIG failures, malformed input, transfers, NOTIFY. */
export interface DnsLogEvent {
  event: 'refused' | 'tsig' | 'malformed' | 'transfer' | 'notify' | 'error';
  message: string;
  /** `address#port` of the peer, when there is one. */
  client?: string;
}

export interface ResponderConfig {
  options: RenderOptions;
  source: ZoneSource;
  keys: ReadonlyMap<string, ResolvedTsigKey>;
  acl: TransferAcl;
  journal: TransferJournal;
  log: (event: DnsLogEvent) => void;
  /** Records one IXFR answer may carry to this client (journal pieces); unset: the whole difference. */
  pieceBudget?: (client: Client) => number;
  /** An IXFR ended short of the current version (one piece of a large one): the client must come back. */
  onPartialTransfer?: (client: Client) => void;
}

export interface Client {
  address: string;
  port: number;
  transport: 'udp' | 'tcp';
  /** Hears that a request of this client carried a valid TSIG signature (a TCP slot on probation keeps it). */
  tsigVerified?: () => void;
}

/** One message, a stream of them (a transfer, TCP only), or nothing: drop it (UDP) or close (TCP). */
export type Reply = Buffer | AsyncIterable<Buffer> | undefined;

const EDNS_PAYLOAD = 1232;

interface Request {
  raw: Buffer;
  packet: DecodedPacket;
  client: Client;
  signer: TsigSigner | undefined;
  /** Name of the TSIG key the request was verified with, for the log. */
  keyName: string | undefined;
}

function peer(client: Client): string {
  return `${client.address}#${client.port}`;
}

function responseFlags(request: DecodedPacket, rcode: number, authoritative: boolean): number {
  const flags = request.flags ?? 0;
  return FLAG_QR | opcodeBits(opcodeOf(flags)) | (authoritative ? FLAG_AA : 0) | (flags & FLAG_RD) | rcode;
}

function edns(request: DecodedPacket): Answer[] {
  const asked = request.additionals?.some((record) => record.type === 'OPT');
  return asked
    ? [
        {
          name: '.',
          type: 'OPT',
          udpPayloadSize: EDNS_PAYLOAD,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ]
    : [];
}

function message(
  request: Request,
  rcode: number,
  answers: Answer[] = [],
  authorities: Answer[] = [],
): Buffer {
  const encoded = dnsPacket.encode({
    id: request.packet.id ?? 0,
    type: 'response',
    flags: responseFlags(request.packet, rcode, rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN),
    questions: request.packet.questions ?? [],
    answers,
    authorities,
    additionals: edns(request.packet),
  });
  return request.signer ? request.signer.sign(encoded) : encoded;
}

/** A FORMERR for a message that dns-packet could not decode: only the header is trusted. */
function formatError(raw: Buffer): Buffer {
  const reply = Buffer.alloc(12);
  reply.writeUInt16BE(raw.readUInt16BE(0), 0);
  reply.writeUInt16BE(FLAG_QR | (raw.readUInt16BE(2) & 0x7900) | RCODE.FORMERR, 2);
  return reply;
}

/** Verifies the request's TSIG: on success the request gets its signer, on failure this returns the NOTAUTH answer. */
function checkTsig(request: Request, tsig: LocatedTsig, config: ResponderConfig): Buffer | undefined {
  const check = verifyRequest(request.raw, tsig, config.keys);
  if (check.ok) {
    request.signer = new TsigSigner(check.key, check.requestMac);
    request.keyName = check.key.name;
    request.client.tsigVerified?.();
    return undefined;
  }
  config.log({ event: 'tsig', client: peer(request.client), message: `TSIG failure: ${check.reason}` });
  const body = message(request, RCODE.NOTAUTH);
  if (check.error === TSIG_ERROR.BADTIME && check.key && check.requestMac) {
    return new TsigSigner(check.key, check.requestMac).sign(body, TSIG_ERROR.BADTIME, tsig.record.timeSigned);
  }
  return unsignedTsigError(body, tsig.record, check.error);
}

async function* signedStream(
  request: Request,
  kind: string,
  messages: AsyncIterator<Buffer, TransferStats> | Iterator<Buffer, TransferStats>,
  config: ResponderConfig,
  detail: string,
  partial = false,
): AsyncGenerator<Buffer> {
  for (;;) {
    const next = await messages.next();
    if (next.done) {
      const { records, messages: count } = next.value;
      const signed = request.keyName ? `, TSIG ${request.keyName}` : '';
      const message = `${kind} ${detail}${signed}: ${records} records in ${count} messages`;
      config.log({ event: 'transfer', client: peer(request.client), message });
      if (partial) config.onPartialTransfer?.(request.client);
      return;
    }
    yield request.signer ? request.signer.sign(next.value) : next.value;
  }
}

function transfer(request: Request, question: Question, config: ResponderConfig): Reply {
  const { options, source, journal } = config;
  const zone = options.zone.slice(0, -1);
  if (question.name.toLowerCase() !== zone || (question.class ?? 'IN') !== 'IN')
    return message(request, RCODE.NOTAUTH);
  if (!config.acl(request.client.address, request.signer !== undefined)) {
    config.log({
      event: 'refused',
      client: peer(request.client),
      message: `${question.type} ${zone} refused: not allowed to transfer`,
    });
    return message(request, RCODE.REFUSED);
  }
  const version = source.version();
  const serial = zoneSerial(version);
  const head: ResponseHead = {
    id: request.packet.id ?? 0,
    flags: responseFlags(request.packet, RCODE.NOERROR, true),
    question,
  };
  const udp = request.client.transport === 'udp';
  if (question.type === 'AXFR') {
    if (udp) return message(request, RCODE.FORMERR);
    return signedStream(
      request,
      'AXFR',
      axfrMessages(head, version, source.entries(), options),
      config,
      `serial ${serial}`,
    );
  }
  const clientSoa = request.packet.authorities?.find(
    (record) => record.type === 'SOA' && record.name.toLowerCase() === zone,
  );
  const clientSerial = clientSoa?.type === 'SOA' ? clientSoa.data.serial : undefined;
  if (clientSerial === undefined) return message(request, RCODE.FORMERR);
  const order = compareSerial(clientSerial, serial);
  // Up to date, or over UDP where a difference may not fit: the current SOA alone (RFC 1995 section 4).
  if (udp || order === 0 || order === 1) {
    const reply = soaOnlyMessage(head, version, options);
    return request.signer ? request.signer.sign(reply) : reply;
  }
  const budget = config.pieceBudget?.(request.client) ?? Number.POSITIVE_INFINITY;
  const diff = journal.headVersion === version ? journal.diffSince(clientSerial, budget) : undefined;
  if (diff) {
    const partial = diff.toSerial !== serial;
    return signedStream(
      request,
      'IXFR',
      ixfrMessages(head, diff, options),
      config,
      `serial ${clientSerial} -> ${diff.toSerial}${partial ? ` (a piece; the zone is at ${serial})` : ''}`,
      partial,
    );
  }
  const detail = `serial ${clientSerial} -> ${serial} (AXFR-style, older than the journal)`;
  return signedStream(
    request,
    'IXFR',
    axfrMessages(head, version, source.entries(), options),
    config,
    detail,
  );
}

/**
 * Answers one request. Malformed input never throws: over UDP it gets FORMERR when its header can
 * be read (and nothing otherwise), over TCP `undefined` tells the caller to close the connection.
 */
export async function respond(raw: Buffer, client: Client, config: ResponderConfig): Promise<Reply> {
  if (raw.length < 12 || (raw.readUInt16BE(2) & FLAG_QR) !== 0) {
    config.log({
      event: 'malformed',
      client: peer(client),
      message: `ignored ${raw.length}-byte message: not a request`,
    });
    return undefined;
  }
  let packet: DecodedPacket;
  let tsig: LocatedTsig | undefined;
  try {
    packet = dnsPacket.decode(raw);
    tsig = locateTsig(raw);
  } catch (error) {
    config.log({
      event: 'malformed',
      client: peer(client),
      message: `undecodable message: ${(error as Error).message}`,
    });
    return client.transport === 'udp' ? formatError(raw) : undefined;
  }
  const request: Request = { raw, packet, client, signer: undefined, keyName: undefined };
  const failure = tsig ? checkTsig(request, tsig, config) : undefined;
  if (failure) return failure;
  if (opcodeOf(packet.flags ?? 0) !== OPCODE.QUERY) return message(request, RCODE.NOTIMP);
  const question = packet.questions?.[0];
  if (!question || packet.questions?.length !== 1) return message(request, RCODE.FORMERR);
  if (question.type === 'AXFR' || question.type === 'IXFR') return transfer(request, question, config);

  const { options, source } = config;
  const zone = options.zone.slice(0, -1);
  const name = question.name.toLowerCase();
  const inZone = name === zone || name.endsWith(`.${zone}`);
  if (!inZone || !['IN', 'ANY'].includes(question.class ?? 'IN')) return message(request, RCODE.REFUSED);
  const answer = await answerQuery(
    name,
    question.type,
    source.version(),
    options,
    source.entries,
    source.lookup,
  );
  return message(request, answer.rcode, answer.answers, answer.authorities);
}
