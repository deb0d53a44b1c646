import { CANARY_DOMAIN, canaryText } from '../core/canary.ts';
import { addressRecordType } from './names.ts';
import type { RenderFunction } from './options.ts';
import { domainLine, endLine, renderLines } from './render-lines.ts';

/**
 * An Unbound include file (`include: "PATH"` in unbound.conf; it opens its own `server:` clause):
 * `local-zone: "name." always_nxdomain` answers NXDOMAIN for the name and all its sub-domains; a
 * `redirect` entry becomes a `redirect` zone answering the walled-garden A/AAAA addresses for the
 * name and its sub-domains (always_nxdomain when no address is configured).
 */
export const renderUnbound: RenderFunction = (entries, { version, options, refs }) => {
  const addresses = options.walledGardenAddresses;
  return renderLines(entries, {
    kind: 'domain',
    header:
      `# takedown blocklist for Unbound at registry version ${version}. Generated: edits are lost.\n` +
      '# Load with include: in unbound.conf; apply with unbound-control reload. Comments: category order-reference(s).\n' +
      'server:\n' +
      // The canary (src/core/canary.ts): a redirect zone answers every name under it with its apex data.
      `local-zone: "${CANARY_DOMAIN}." redirect\nlocal-data: '${CANARY_DOMAIN}. ${options.ttl} IN TXT "${canaryText(Number(version))}"'\n`,
    line: domainLine(refs, (name, comment, entry) => {
      if (entry.action !== 'redirect' || addresses.length === 0) {
        return `local-zone: "${name}." always_nxdomain # ${comment}\n`;
      }
      let text = `local-zone: "${name}." redirect # ${comment}\n`;
      for (const address of addresses) {
        text += `local-data: "${name}. ${options.ttl} IN ${addressRecordType(address)} ${address}"\n`;
      }
      return text;
    }),
    footer: (stats) => endLine('#', stats, version),
  });
};
