import { isDnsName, urlTarget } from './names.ts';
import type { RenderFunction } from './options.ts';
import { endLine, renderLines } from './render-lines.ts';

// POSIX extended regular expression metacharacters (Squid compiles url_regex with regcomp).
const META = /[\\^$.|?*+()[\]{}]/g;

function escapeRegex(text: string): string {
  return text.replace(META, '\\$&');
}

/**
 * The anchored pattern of one `url` expression, scheme-agnostic and port-tolerant:
 * `^https?://` + the host (a domain name also matches its sub-domains, as Safe Browsing lookups
 * do) + `(:port)?` + the path. A path ending in `/` is a prefix; a path with a query matches
 * exactly; a path without one matches that page with any query or none.
 */
function urlPattern(host: string, path: string): string {
  const hostPattern = isDnsName(host) ? `([^/?#@:]+\\.)?${escapeRegex(host)}` : escapeRegex(host);
  const base = `^https?://${hostPattern}(:[0-9]+)?${escapeRegex(path)}`;
  if (path.includes('?')) return `${base}$`;
  return path.endsWith('/') ? base : `${base}(\\?.*)?$`;
}

/**
 * A Squid `url_regex -i` ACL file (`acl takedown_url url_regex -i "PATH"`) with one anchored,
 * escaped pattern per `url` entry. Squid sees paths of plain HTTP (and of HTTPS only when it
 * decrypts); for a CONNECT tunnel only the host is visible, which the dstdomain list covers.
 */
export const renderSquidUrl: RenderFunction = (entries, { version }) =>
  renderLines(entries, {
    kind: 'url',
    header:
      `# takedown URL blocklist for Squid (url_regex -i) at registry version ${version}. Generated: edits are lost.\n` +
      '# acl takedown_url url_regex -i "THIS FILE"; path ending in / = prefix, otherwise that page exactly.\n' +
      '# Apply with squid -k reconfigure. Squid tries every pattern on every request: keep URL lists short.\n',
    line(entry) {
      const target = urlTarget(entry.expression);
      return target === undefined ? undefined : `${urlPattern(target.host, target.path)}\n`;
    },
    footer: (stats) => endLine('#', stats, version),
  });
