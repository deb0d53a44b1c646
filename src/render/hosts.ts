import type { RenderFunction } from './options.ts';
import { domainLine, endLine, renderLines } from './render-lines.ts';

/**
 * A hosts file (`/etc/hosts` syntax, dnsmasq `addn-hosts`): `0.0.0.0 name`, or the walled-garden
 * addresses for `redirect` entries. Exact names only: a hosts file cannot block sub-domains.
 */
export const renderHosts: RenderFunction = (entries, { version, options, refs }) => {
  const redirectTo = options.walledGardenAddresses;
  return renderLines(entries, {
    kind: 'domain',
    header:
      `# takedown blocklist in hosts format at registry version ${version}. Generated: edits are lost.\n` +
      '# LIMITATION: exact names only. A hosts file cannot block sub-domains (www.name stays reachable);\n' +
      '# use the rpz, unbound or dnsmasq output where the resolver supports one. Comments: category order-reference(s).\n',
    line: domainLine(refs, (name, comment, entry) => {
      if (entry.action !== 'redirect' || redirectTo.length === 0) return `0.0.0.0 ${name} # ${comment}\n`;
      let text = '';
      for (const address of redirectTo) text += `${address} ${name} # ${comment}\n`;
      return text;
    }),
    footer: (stats) => endLine('#', stats, version),
  });
};
