import type { RenderFunction } from './options.ts';
import { domainLine, endLine, renderLines } from './render-lines.ts';

/**
 * A dnsmasq `servers-file` (`servers-file=PATH`), the form dnsmasq re-reads on SIGHUP (`address=`
 * lines are not re-read). `server=/name/` without an address means "answer from local data only",
 * which is NXDOMAIN for the name and all its sub-domains. A servers-file cannot carry addresses, so
 * `redirect` entries are blocked too.
 */
export const renderDnsmasq: RenderFunction = (entries, { version, refs }) =>
  renderLines(entries, {
    kind: 'domain',
    header:
      `# takedown blocklist for dnsmasq at registry version ${version}. Generated: edits are lost.\n` +
      '# Load with servers-file=; apply with SIGHUP. server=/name/ = NXDOMAIN for the name and its sub-domains.\n' +
      '# Redirect entries are blocked (no walled garden in a servers-file). Comments: category order-reference(s).\n',
    line: domainLine(refs, (name, comment) => `server=/${name}/ # ${comment}\n`),
    footer: (stats) => endLine('#', stats, version),
  });
