import { type Command, parseFlags, UsageError } from './command.ts';
import { targetFlags, withClient } from './registry-client.ts';
import { print, table } from './table.ts';

const ORDER_COLUMNS = [
  'id',
  'reference',
  'authority',
  'category',
  'status',
  'entryCount',
  'version',
  'createdAt',
];
const ENTRY_COLUMNS = ['id', 'expression', 'kind', 'active', 'linkStatus', 'firstVersion'];

const idOf = (text: string | undefined) => {
  if (!text || !/^[1-9]\d{0,14}$/.test(text)) throw new UsageError('expected an order ID');
  return Number(text);
};
const more = (cursor: string | null) => (cursor ? `\nmore: --cursor ${cursor}` : '');

export const orders: Command = {
  name: 'orders',
  summary: 'list, show, revoke or extend orders, on the local registry or a remote hub',
  usage:
    'orders list [--status S] [--category C] [--authority A] [--reference R] [--reference-prefix P] [--since T] [--until T] [--limit N] [--cursor C]\n' +
    '       orders show ID [--limit N] [--cursor C]\n' +
    '       orders revoke ID --reason TEXT [--release]\n' +
    '       orders extend ID --expires ISO|YYYY-MM-DD|never [--reason TEXT]\n' +
    '   each with [--data DIR | --hub URL --token T] [--json]',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        ...targetFlags,
        status: { type: 'string' },
        category: { type: 'string' },
        authority: { type: 'string' },
        reference: { type: 'string' },
        'reference-prefix': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        reason: { type: 'string' },
        release: { type: 'boolean' },
        expires: { type: 'string' },
      },
      true,
    );
    const [action, id] = positionals;
    return withClient(values, async (client) => {
      switch (action) {
        case 'list': {
          const reply = await client.listOrders({
            status: values.status as never,
            category: values.category as never,
            authority: values.authority,
            reference: values.reference,
            referencePrefix: values['reference-prefix'],
            since: values.since,
            until: values.until,
            limit: values.limit,
            cursor: values.cursor,
          });
          print(values.json, reply, () => table(ORDER_COLUMNS, reply.orders) + more(reply.nextCursor));
          return 0;
        }
        case 'show': {
          const reply = await client.getOrder(idOf(id), { limit: values.limit, cursor: values.cursor });
          print(values.json, reply, () => {
            const o = reply.order;
            const head = [
              `order ${o.id}  ${o.reference}  (${o.authority}, ${o.category}, ${o.action})`,
              `status ${o.status}, ${o.entryCount} entries, version ${o.version ?? '-'}`,
              `issued ${o.issuedAt}, expires ${o.expiresAt ?? 'never'}, created ${o.createdAt} by ${o.createdBy}`,
              ...(o.reason ? [`reason: ${o.reason}`] : []),
              ...(o.revokedAt ? [`revoked ${o.revokedAt}: ${o.revokeReason ?? ''}`] : []),
            ];
            return `${head.join('\n')}\n\n${table(ENTRY_COLUMNS, reply.entries)}${more(reply.nextCursor)}`;
          });
          return 0;
        }
        case 'revoke': {
          if (!values.reason) throw new UsageError('orders revoke needs --reason');
          const reply = await client.revokeOrder(idOf(id), {
            reason: values.reason,
            release: values.release,
          });
          print(
            values.json,
            reply,
            () => `revoked order ${id}: version ${reply.version}, ${reply.removes} removed`,
          );
          return 0;
        }
        case 'extend': {
          if (!values.expires)
            throw new UsageError('orders extend needs --expires (a time, a date or "never")');
          const expiresAt = values.expires === 'never' ? null : values.expires;
          const reply = await client.extendOrder(idOf(id), { expiresAt, reason: values.reason });
          print(
            values.json,
            reply,
            () => `order ${id} now expires ${reply.order?.expiresAt ?? 'never'} (version ${reply.version})`,
          );
          return 0;
        }
        default:
          throw new UsageError('expected list, show, revoke or extend');
      }
    });
  },
};
