import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { type ExportFormat, exportHeader, exportLines } from '../registry/change-export.ts';
import { type Command, parseFlags, UsageError } from './command.ts';
import { type RegistryClient, targetFlags, withClient } from './registry-client.ts';

const PAGE = 1000;

async function verify(client: RegistryClient, json: boolean | undefined): Promise<number> {
  const report = await client.verifyChain();
  const version = await client.version();
  if (json) console.log(JSON.stringify({ ...report, version }));
  else if (report.ok)
    console.log(`change log ok: ${report.rows} rows, chain intact (registry version ${version})`);
  else
    console.error(
      `change log BROKEN at row seq ${report.brokenAt} (${report.reason ?? 'hash mismatch'}); ${report.rows} rows checked`,
    );
  return report.ok ? 0 : 1;
}

/** Every change (or one version's), page by page, as CSV or JSON lines to `out` (standard output when absent). */
async function exportChanges(
  client: RegistryClient,
  format: ExportFormat,
  out: string | undefined,
  version: string | undefined,
): Promise<number> {
  const sink = out ? createWriteStream(out) : process.stdout;
  const write = async (text: string) => {
    if (text && !sink.write(text)) await once(sink, 'drain');
  };
  await write(exportHeader(format));
  let after: number | null = 0;
  let rows = 0;
  while (after !== null) {
    const page = await client.listChanges({ after, limit: PAGE, version });
    await write(exportLines(format, page.changes));
    rows += page.changes.length;
    after = page.nextAfter;
  }
  if (out) {
    sink.end();
    await once(sink, 'finish');
    console.error(`wrote ${rows} changes to ${out}`);
  }
  return 0;
}

export const audit: Command = {
  name: 'audit',
  summary: 'verify the hash chain of the change log (exit 1 naming the first bad row), or export the log',
  usage:
    'audit verify | audit export [--format csv|jsonl] [--out FILE] [--version V]\n' +
    '   [--data DIR | --hub URL --token T] [--json]',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { ...targetFlags, format: { type: 'string' }, out: { type: 'string' }, version: { type: 'string' } },
      true,
    );
    const format = (values.format ?? 'csv') as ExportFormat;
    if (format !== 'csv' && format !== 'jsonl') throw new UsageError('--format must be csv or jsonl');
    return withClient(values, async (client) => {
      switch (positionals[0]) {
        case 'verify':
          return verify(client, values.json);
        case 'export':
          return exportChanges(client, format, values.out, values.version);
        default:
          throw new UsageError('expected verify or export');
      }
    });
  },
};
