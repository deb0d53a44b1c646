// The scale, goals and timeouts of the RPZ benchmark, and its result recorder.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NRD_LIST, shownPath } from '../lib/data.ts';
import { formatNumber, Recorder } from '../lib/result.ts';
export const run = promisify(execFile);

export const NAMES = 1_000_000;
export const SMALL = 10;
export const LARGE = 10_000;
export const AXFR_ROUNDS = 3;
export const GOAL_AXFR_BYTES = 1.1;
export const ZONE = 'rpz.takedown.';
export const GOAL_UNBOUND_MS = 2_000;
export const GOAL_SPEEDUP = 5;
export const GOAL_STALL_MS = 100;
export const STALL_EVERY_MS = 10;
export const POLL_EVERY_MS = 5;
export const LOAD_TIMEOUT_MS = 900_000;
export const CHANGE_TIMEOUT_MS = 180_000;
export const MB = 1e6;

/** "The rest of the internet": every name outside the policy resolves to one address. */

export const rec = new Recorder(
  'rpz',
  'RPZ over DNS: full transfer and change propagation at 1M names',
  `${formatNumber(NAMES)} names of ${shownPath(NRD_LIST)} (seeded shuffle, \`parseTarget\`) as \`domain\` entries ` +
    '(2M policy records), held as a `PlainState` snapshot payload in a child process, as the agent holds it. ' +
    '(a) Full AXFR, raw TCP client counting wire bytes, 3 rounds interleaved, median: our primary (`serveZone`, ' +
    'initial version published as the agent does) vs BIND 9.18 `named -n 1` with `type primary` on the RPZ file ' +
    'rendered from the same state and version. (b) Six resolvers loaded with the same 1M names, each transfer-path ' +
    'one the NOTIFYed secondary of its own primary process (same state and versions): Unbound 1.17 (`rpz:` + ' +
    '`primary:`, no zonefile) fed IXFR pieces of at most 4 096 records (the default), the same fed whole ' +
    'differences (`pieceRecords` 0, the baseline), BIND (`type secondary`, `response-policy`, whole differences) ' +
    'with a zone file and without one; Unbound (`rpz:` + `zonefile:`) and BIND (`type primary` on the file) for the ' +
    'file path, reloaded with `unbound-control auth_zone_reload rpz.takedown.` and `rndc reload rpz.takedown` after ' +
    'the agent re-rendered the file. The two transfer-path Unbounds load one after the other, each alone and ' +
    `asked an unrelated name every ${STALL_EVERY_MS} ms throughout; the other four load at once. A root zone with \`* A 192.0.2.99\` stands for ` +
    'the internet. Then a version adding 10 new names and one adding 10k: time from the publish (or render) ' +
    `command to the last added name answering NXDOMAIN (polled every ${POLL_EVERY_MS} ms over UDP, then every ` +
    'added name checked), each resolver alone. Meanwhile a loop asks the Unbound under test an unrelated new name ' +
    `every ${STALL_EVERY_MS} ms; the longest gap between two answers is the stall. BIND's own log (named -g, ` +
    'millisecond timestamps) splits its time into transfer and RPZ rebuild. One round per change (each takes a ' +
    'reload of 1M names on the file path).',
);
