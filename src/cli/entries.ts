import { type Command, parseFlags, UsageError } from './command.ts';
import { targetFlags, withClient } from './registry-client.ts';
import { print, table } from './table.ts';

const COLUMNS = ['id', 'expression', 'kind', 'category', 'active', 'orderId', 'firstVersion', 'lastVersion'];

export const entries: Command = {
  name: 'entries',
  summary: 'search the entries of the local registry or a remote hub',
  usage:
    'entries search [--q TEXT] [--prefix EXPR] [--kind domain|url] [--category C] [--active true|false] [--order ID] [--limit N] [--cursor C]\n' +
    '   [--data DIR | --hub URL --token T] [--json]',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        ...targetFlags,
        q: { type: 'string' },
        prefix: { type: 'string' },
        kind: { type: 'string' },
        category: { type: 'string' },
        active: { type: 'string' },
        order: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
      },
      true,
    );
    if (positionals[0] !== 'search') throw new UsageError('expected "search"');
    return withClient(values, async (client) => {
      const reply = await client.listEntries({
        q: values.q,
        prefix: values.prefix,
        kind: values.kind as never,
        category: values.category as never,
        active: values.active as never,
        orderId: values.order,
        limit: values.limit,
        cursor: values.cursor,
      });
      print(
        values.json,
        reply,
        () =>
          table(COLUMNS, reply.entries) + (reply.nextCursor ? `\nmore: --cursor ${reply.nextCursor}` : ''),
      );
      return 0;
    });
  },
};
