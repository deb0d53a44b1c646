import { lookupExpressions } from '../core/expressions.ts';
import { canonicalizeUrl } from '../core/url.ts';
import { type Command, parseFlags, UsageError } from './command.ts';
import { dataFlag, withRegistry } from './local-registry.ts';

export const check: Command = {
  name: 'check',
  summary: 'check URLs or domains against the local registry; exit 1 when any is blocked',
  usage: 'check TARGET... [--data ./data] [--json]',
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...dataFlag, json: { type: 'boolean' } }, true);
    if (positionals.length === 0) throw new UsageError('give at least one URL or domain');
    return withRegistry(values.data, (registry) => {
      let blocked = 0;
      for (const target of positionals) {
        const url = canonicalizeUrl(target);
        if (!url.ok) {
          console.log(
            values.json
              ? JSON.stringify({ target, error: url.error })
              : `${target}\tinvalid\t${url.error.message}`,
          );
          continue;
        }
        const matches = registry.matchExpressions(lookupExpressions(url.value));
        if (matches.length) blocked++;
        if (values.json) {
          console.log(
            JSON.stringify({ target, canonical: url.value.href, blocked: matches.length > 0, matches }),
          );
        } else if (matches.length === 0) {
          console.log(`${target}\tnot blocked`);
        } else {
          const why = matches.map(
            (m) => `${m.entry.expression} (${m.orders.map((o) => o.reference).join(', ')})`,
          );
          console.log(`${target}\tBLOCKED\t${why.join('; ')}`);
        }
      }
      return blocked > 0 ? 1 : 0;
    });
  },
};
