// Parsers that accept exactly the grammar each renderer promises and throw on any other line: a
// stand-in for the real program where it is not installed, and the proof that no entry or
// reference can smuggle a line of its own into a resolver's configuration.

const NAME = '(?:[a-z0-9_-]{1,63}\\.)*[a-z0-9_-]{1,63}';
const IPV4 = '(?:\\d{1,3}\\.){3}\\d{1,3}';
const IPV6 = '[0-9a-f:]+:[0-9a-f:]*';
const COMMENT = '[^\\n]*';

function parseLines(
  text: string,
  format: string,
  patterns: RegExp[],
  onMatch: (match: RegExpExecArray) => void,
): void {
  if (!text.endsWith('\n')) throw new Error(`${format}: no final newline`);
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const match = patterns.map((pattern) => pattern.exec(line)).find((found) => found !== null);
    if (!match) throw new Error(`${format} line ${i + 1} is not valid: ${JSON.stringify(line)}`);
    onMatch(match);
  });
}

export interface ParsedRecord {
  owner: string;
  type: string;
  data: string;
  comment?: string;
}

export function parseRpz(text: string): {
  origin: string;
  serial: number;
  records: ParsedRecord[];
  canary: number[];
} {
  let origin = '';
  let serial = -1;
  const canary: number[] = [];
  const records: ParsedRecord[] = [];
  parseLines(
    text,
    'rpz',
    [
      /^;(?<comment>.*)$/,
      new RegExp(`^\\$ORIGIN (?<origin>${NAME}\\.)$`),
      /^\$TTL \d+$/,
      new RegExp(`^@ IN SOA ${NAME}\\. ${NAME}\\. (?<serial>\\d+) \\d+ \\d+ \\d+ \\d+$`),
      new RegExp(`^@ IN NS ${NAME}\\.$`),
      /^(?:v\d+|\*)\.canary\.takedown TXT "takedown-canary v=(?<canary>\d+)"$/,
      new RegExp(
        `^(?<owner>(?:\\*\\.)?${NAME}) (?:(?<type>CNAME) (?<data>\\.|${NAME}\\.)|(?<type2>A) (?<data2>${IPV4})|(?<type3>AAAA) (?<data3>${IPV6}))(?: ; (?<rc>${COMMENT}))?$`,
      ),
    ],
    (match) => {
      const g = match.groups ?? {};
      if (g.origin) origin = g.origin;
      if (g.serial) serial = Number(g.serial);
      if (g.canary) canary.push(Number(g.canary));
      if (g.owner) {
        const type = g.type ?? g.type2 ?? g.type3 ?? '';
        const data = g.data ?? g.data2 ?? g.data3 ?? '';
        records.push({ owner: g.owner, type, data, ...(g.rc ? { comment: g.rc } : {}) });
      }
    },
  );
  return { origin, serial, records, canary };
}

export function parseUnbound(text: string): {
  nxdomain: string[];
  redirect: string[];
  data: string[];
  canary: number[];
} {
  const result = {
    nxdomain: [] as string[],
    redirect: [] as string[],
    data: [] as string[],
    canary: [] as number[],
  };
  let servers = 0;
  parseLines(
    text,
    'unbound',
    [
      /^#.*$/,
      /^server:$/,
      /^local-zone: "canary\.takedown\." redirect$/,
      /^local-data: 'canary\.takedown\. \d+ IN TXT "takedown-canary v=(?<canary>\d+)"'$/,
      new RegExp(`^local-zone: "(?<zone>${NAME})\\." (?<kind>always_nxdomain|redirect) # ${COMMENT}$`),
      new RegExp(`^local-data: "(?<rr>${NAME}\\. \\d+ IN (?:A ${IPV4}|AAAA ${IPV6}))"$`),
    ],
    (match) => {
      const g = match.groups ?? {};
      if (match[0] === 'server:') servers++;
      if (g.zone) (g.kind === 'redirect' ? result.redirect : result.nxdomain).push(g.zone);
      if (g.rr) result.data.push(g.rr);
      if (g.canary) result.canary.push(Number(g.canary));
    },
  );
  if (servers !== 1) throw new Error(`unbound: ${servers} server: lines`);
  return result;
}

export function parseDnsmasq(text: string): string[] {
  const names: string[] = [];
  parseLines(text, 'dnsmasq', [/^#.*$/, new RegExp(`^server=/(?<name>${NAME})/ # ${COMMENT}$`)], (match) => {
    if (match.groups?.name) names.push(match.groups.name);
  });
  return names;
}

export function parseHosts(text: string): Array<{ address: string; name: string }> {
  const lines: Array<{ address: string; name: string }> = [];
  parseLines(
    text,
    'hosts',
    [/^#.*$/, new RegExp(`^(?<address>${IPV4}|${IPV6}) (?<name>${NAME}) # ${COMMENT}$`)],
    (match) => {
      const g = match.groups ?? {};
      if (g.address && g.name) lines.push({ address: g.address, name: g.name });
    },
  );
  return lines;
}

export function parseSquid(text: string): string[] {
  const names: string[] = [];
  parseLines(text, 'squid', [/^#.*$/, new RegExp(`^\\.(?<name>${NAME})$`)], (match) => {
    if (match.groups?.name) names.push(match.groups.name);
  });
  return names;
}

/** Every pattern line, compiled as a JavaScript RegExp (the patterns use only ERE syntax both share). */
export function parseSquidUrl(text: string): RegExp[] {
  const patterns: RegExp[] = [];
  parseLines(text, 'squid-url', [/^#.*$/, /^(?<pattern>\^https\?:\/\/\S+)$/], (match) => {
    if (match.groups?.pattern) patterns.push(new RegExp(match.groups.pattern, 'i'));
  });
  return patterns;
}
