import { TOKEN_ROLES, type TokenRole } from '../registry/types.ts';
import { type Command, parseFlags, UsageError } from './command.ts';
import { dataFlag, withRegistry } from './local-registry.ts';

export const token: Command = {
  name: 'token',
  summary: 'manage API tokens on the local registry (the text of a new token is shown once)',
  usage: `token create --role ${TOKEN_ROLES.join('|')} --name NAME | token list | token revoke ID   [--data ./data]`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { ...dataFlag, role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
      true,
    );
    const [action, id] = positionals;
    return withRegistry(values.data, (registry) => {
      switch (action) {
        case 'create': {
          const role = values.role as TokenRole;
          if (!TOKEN_ROLES.includes(role))
            throw new UsageError(`--role must be one of ${TOKEN_ROLES.join(', ')}`);
          if (!values.name) throw new UsageError('--name is required');
          const created = registry.createToken(role, values.name);
          if (!created.ok) throw new Error(created.error.message);
          console.log(values.json ? JSON.stringify({ ...created.value, role }) : created.value.token);
          return 0;
        }
        case 'list': {
          const tokens = registry.listTokens();
          if (values.json) console.log(JSON.stringify(tokens));
          else
            for (const t of tokens)
              console.log(
                `${t.id}\t${t.role}\t${t.name}\t${t.revokedAt ? `revoked ${t.revokedAt}` : 'active'}`,
              );
          return 0;
        }
        case 'revoke': {
          if (!id || !/^\d+$/.test(id)) throw new UsageError('token revoke needs a numeric token ID');
          const revoked = registry.revokeToken(Number(id));
          if (!revoked.ok) throw new Error(revoked.error.message);
          console.log(`revoked token ${id} (${revoked.value.name})`);
          return 0;
        }
        default:
          throw new UsageError('expected create, list or revoke');
      }
    });
  },
};
