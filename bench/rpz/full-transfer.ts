// (a) of the RPZ benchmark: a full AXFR from our primary against BIND serving the same zone file.
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { zoneSerial } from '../../src/render/serial.ts';
import { cpuSecondsOf, memoryOf } from '../lib/child.ts';
import { startNamed } from '../lib/resolvers/bind.ts';
import { formatNumber } from '../lib/result.ts';
import { MiB, median } from '../lib/timing.ts';
import type { Agent } from './agent-process.ts';
import type { Cleanup } from './propagation.ts';
import { AXFR_ROUNDS, GOAL_AXFR_BYTES, LOAD_TIMEOUT_MS, MB, rec, ZONE } from './settings.ts';
// ---------------------------------------------------------------------------------------------------
// (a) Full zone transfer.

export interface Transfer {
  seconds: number;
  bytes: number;
  messages: number;
  records: number;
}

/** Offset just past the (possibly compressed) name at `offset`. */
export function skipName(message: Buffer, offset: number): number {
  for (;;) {
    const length = message[offset] as number;
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2;
    offset += 1 + length;
  }
}

/** AXFR of the policy zone from 127.0.0.1:`port`, read to its closing SOA; only counts what arrives. */
export function axfr(port: number): Promise<Transfer> {
  const name = Buffer.concat([
    ...ZONE.slice(0, -1)
      .split('.')
      .map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])),
    Buffer.from([0]),
  ]);
  const query = Buffer.alloc(2 + 12 + name.length + 4);
  query.writeUInt16BE(query.length - 2, 0);
  query.writeUInt16BE(0x4242, 2);
  query.writeUInt16BE(1, 6);
  name.copy(query, 14);
  query.writeUInt16BE(252, 14 + name.length);
  query.writeUInt16BE(1, 16 + name.length);
  const result: Transfer = { seconds: 0, bytes: 0, messages: 0, records: 0 };
  let soas = 0;
  let pending: Buffer = Buffer.alloc(0);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(query));
    socket.setTimeout(60_000, () => socket.destroy(new Error(`AXFR from port ${port} stalled`)));
    socket.on('error', reject);
    socket.on('close', () =>
      reject(new Error(`AXFR from port ${port} ended after ${result.records} records`)),
    );
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        result.bytes += 2 + length;
        result.messages++;
        const rcode = message.readUInt16BE(2) & 0x0f;
        if (rcode !== 0) return socket.destroy(new Error(`AXFR from port ${port}: rcode ${rcode}`));
        let offset = 12;
        for (let q = message.readUInt16BE(4); q > 0; q--) offset = skipName(message, offset) + 4;
        for (let a = message.readUInt16BE(6); a > 0; a--) {
          offset = skipName(message, offset);
          if (message.readUInt16BE(offset) === 6) soas++;
          offset += 10 + message.readUInt16BE(offset + 8);
          result.records++;
        }
        if (soas === 2) {
          result.seconds = (performance.now() - start) / 1000;
          socket.removeAllListeners('close');
          socket.destroy();
          return resolve(result);
        }
      }
    });
  });
}

/** The process whose command line names `configPath` (the helpers start named/unbound with it). */
export function pidByConfig(configPath: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(configPath) && /(named|unbound)$/.test(argv[0] ?? '')) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  throw new Error(`no process runs with ${configPath}`);
}

export const mem = (pid: number) => {
  const m = memoryOf(pid);
  if (!m) throw new Error(`cannot read the memory of process ${pid}`);
  return m;
};
export const mib = (bytes: number) => formatNumber(bytes / MiB);

export async function fullTransfer(primary: Agent, primaryPort: number, zoneFile: string, cleanup: Cleanup) {
  const named = await startNamed({
    options: '  recursion no; notify no;',
    clauses: `zone "rpz.takedown" { type primary; file "${zoneFile}"; allow-transfer { 127.0.0.1; }; };`,
    startTimeoutMs: LOAD_TIMEOUT_MS,
  });
  cleanup.push(named.stop);
  await named.waitForLog(new RegExp(`rpz\\.takedown/IN: loaded serial ${zoneSerial(1)}\\b`), LOAD_TIMEOUT_MS);
  const namedPid = pidByConfig(named.configPath);
  const before = { ours: mem(primary.pid), bind: mem(namedPid) };
  const servers = [
    { key: 'ours', port: primaryPort, pid: primary.pid },
    { key: 'bind', port: named.port, pid: namedPid },
  ] as const;
  const runs: Record<'ours' | 'bind', Array<Transfer & { cpu: number }>> = { ours: [], bind: [] };
  const loadAtStart = loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
  for (let round = 0; round < AXFR_ROUNDS; round++) {
    for (const server of servers) {
      const cpu = cpuSecondsOf(server.pid) ?? Number.NaN;
      const transfer = await axfr(server.port).catch((error: Error) => {
        throw new Error(`${error.message}; named's log ends:\n${named.log().slice(-3000)}`);
      });
      runs[server.key].push({ ...transfer, cpu: (cpuSecondsOf(server.pid) ?? Number.NaN) - cpu });
      console.log(`  AXFR ${server.key}: ${transfer.seconds.toFixed(2)} s, ${transfer.records} records`);
    }
  }
  const after = { ours: mem(primary.pid), bind: mem(namedPid) };
  const { memory } = await primary.collectGarbage();
  const collected = mem(primary.pid).rss;
  await named.stop();

  const summary = (key: 'ours' | 'bind') => {
    const all = runs[key];
    const seconds = median(all.map((r) => r.seconds));
    return { ...(all[0] as Transfer), seconds, cpu: median(all.map((r) => r.cpu)) };
  };
  const ours = summary('ours');
  const bind = summary('bind');
  if (ours.records !== bind.records)
    throw new Error(`AXFR record counts differ: ours ${ours.records}, BIND ${bind.records}`);
  for (const [label, s] of [
    ['our primary (serveZone)', ours],
    ['BIND primary', bind],
  ] as const) {
    rec.figure(
      `AXFR from ${label}`,
      s.seconds,
      's wall',
      `median of ${AXFR_ROUNDS}: ${runs[label === 'BIND primary' ? 'bind' : 'ours'].map((r) => r.seconds.toFixed(2)).join(', ')} s; server CPU ${s.cpu.toFixed(2)} s`,
    );
    rec.figure(
      `AXFR from ${label}: throughput`,
      s.bytes / MB / s.seconds,
      'MB/s wall',
      `${(s.bytes / MB).toFixed(1)} MB on the wire, ${formatNumber(s.records)} records in ${formatNumber(s.messages)} messages`,
    );
  }
  rec.figure(
    'RSS of our primary (1M-entry state + journal)',
    after.ours.rss / MiB,
    'MiB',
    `${mib(before.ours.rss)} MiB before the transfers, ${mib(collected)} MiB after them and a full GC ` +
      `(JavaScript heap then ${mib(memory?.heapUsed ?? Number.NaN)} MiB used of ${mib(memory?.heapTotal ?? Number.NaN)} ` +
      `MiB reserved, buffers ${mib(memory?.external ?? Number.NaN)} MiB); peak ${mib(after.ours.peak)} MiB`,
  );
  rec.figure(
    'of which the first publish (journal step 0 -> 1: the whole zone as adds)',
    (primary.rss.after - primary.rss.before) / MiB,
    'MiB',
    `RSS after a full GC, ${mib(primary.rss.before)} -> ${mib(primary.rss.after)} MiB`,
  );
  rec.figure(
    'RSS of the BIND primary (zone loaded)',
    after.bind.rss / MiB,
    'MiB',
    `${mib(before.bind.rss)} MiB before the transfers; peak ${mib(after.bind.peak)} MiB (loading included)`,
  );
  rec.goal(
    'AXFR of 1M names: our primary no slower than BIND (server CPU per transfer and wall clock, medians)',
    '<= BIND',
    `${ours.cpu.toFixed(2)} s vs ${bind.cpu.toFixed(2)} s CPU (${(ours.cpu / bind.cpu).toFixed(2)}x); wall ` +
      `${ours.seconds.toFixed(2)} s vs ${bind.seconds.toFixed(2)} s (${(ours.seconds / bind.seconds).toFixed(2)}x)`,
    ours.cpu <= bind.cpu && ours.seconds <= bind.seconds,
  );
  rec.goal(
    'AXFR of 1M names: bytes on the wire (TCP frames) against BIND',
    `<= ${GOAL_AXFR_BYTES}x BIND`,
    `${(ours.bytes / MB).toFixed(2)} MB vs ${(bind.bytes / MB).toFixed(2)} MB (${(ours.bytes / bind.bytes).toFixed(3)}x)`,
    ours.bytes <= GOAL_AXFR_BYTES * bind.bytes,
  );
  if (memory) {
    const accounted = memory.heapTotal + memory.external;
    rec.note(
      `Our primary's RSS grew by ${mib(collected - before.ours.rss)} MiB over the ${AXFR_ROUNDS} full transfers and ` +
        `stayed after a full GC, when the JavaScript heap reserved ${mib(memory.heapTotal)} MiB and buffers held ` +
        `${mib(memory.external)} MiB: ${mib(collected - accounted)} MiB of RSS was neither (the runtime's own ` +
        'memory and native memory the allocator kept after the transfers).',
    );
  }
  rec.note(
    `AXFR wire size: ours ${(ours.bytes / MB).toFixed(1)} MB in messages of up to 16 KiB, BIND ` +
      `${(bind.bytes / MB).toFixed(1)} MB (its \`transfer-message-size\` default, 20 480 bytes before compression), ` +
      `for the same ${formatNumber(ours.records)} records; both compress owner names (RFC 1035 section 4.1.4). ` +
      `Load average at the start of the transfers: ${loadAtStart}.`,
  );
}
