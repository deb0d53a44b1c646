import { domainName } from './names.ts';
import type { RenderFunction, RenderStats } from './options.ts';
import { endLine, PIECE_SIZE } from './render-lines.ts';

function coveredByAncestor(name: string, listed: ReadonlySet<string>): boolean {
  for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
    if (listed.has(name.slice(dot + 1))) return true;
  }
  return false;
}

/**
 * A Squid `dstdomain` ACL file (`acl takedown dstdomain "PATH"`): `.name` matches the name and all
 * its sub-domains. Squid refuses a file that lists a sub-domain before its parent ("is a subdomain
 * of ... FATAL: Bungled"), and the feed's order puts `a.example` before `example`, so the names are
 * collected first (memory grows with the list, about 100 bytes a name) and sub-domains of a listed
 * name are left out: the parent's entry already blocks them.
 */
export const renderSquid: RenderFunction = async function* (entries, { version }) {
  const stats: RenderStats = { rendered: 0, ignored: 0, skipped: 0 };
  const names: string[] = [];
  for await (const entry of entries) {
    if (entry.kind !== 'domain') {
      stats.ignored++;
      continue;
    }
    const name = domainName(entry.expression);
    if (name === undefined) {
      stats.skipped++;
    } else {
      names.push(name);
      stats.rendered++;
    }
  }
  const listed = new Set(names);
  let piece =
    `# takedown blocklist for Squid (dstdomain) at registry version ${version}. Generated: edits are lost.\n` +
    '# acl takedown dstdomain "THIS FILE"; .name = the name and its sub-domains; covered sub-domains left out.\n' +
    '# Apply with squid -k reconfigure. Order references: see the rpz or unbound output.\n';
  let previous = '';
  for (const name of names) {
    if (name === previous || coveredByAncestor(name, listed)) continue;
    previous = name;
    piece += `.${name}\n`;
    if (piece.length >= PIECE_SIZE) {
      yield piece;
      piece = '';
    }
  }
  yield piece + endLine('#', stats, version);
  return stats;
};
