import { type Command, parseFlags, UsageError } from './command.ts';
import { dataFlag, withRegistry } from './local-registry.ts';

export const audit: Command = {
  name: 'audit',
  summary: 'verify the hash chain of the change log; exit 1 and name the first bad row when it is broken',
  usage: 'audit verify [--data ./data]',
  async run(argv) {
    const { values, positionals } = parseFlags(argv, dataFlag, true);
    if (positionals[0] !== 'verify') throw new UsageError('expected "verify"');
    return withRegistry(values.data, (registry) => {
      const report = registry.verifyChain();
      if (report.ok) {
        console.log(
          `change log ok: ${report.rows} rows, chain intact (registry version ${registry.currentVersion()})`,
        );
        return 0;
      }
      console.error(
        `change log BROKEN at row seq ${report.brokenAt} (${report.reason ?? 'hash mismatch'}); ${report.rows} rows checked`,
      );
      return 1;
    });
  },
};
