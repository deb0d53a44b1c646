import { domainName, traceComment } from './names.ts';
import type { RenderFunction } from './options.ts';
import { endLine, renderLines } from './render-lines.ts';

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
    line(entry) {
      const name = domainName(entry.expression);
      if (name === undefined) return undefined;
      const comment = traceComment(entry, refs);
      if (entry.action !== 'redirect' || redirectTo.length === 0) return `0.0.0.0 ${name} # ${comment}\n`;
      let text = '';
      for (const address of redirectTo) text += `${address} ${name} # ${comment}\n`;
      return text;
    },
    footer: (stats) => endLine('#', stats, version),
  });
};
