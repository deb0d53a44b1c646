import { ACTIONS, type Action, CATEGORIES, type Category } from '../core/types.ts';
import { describeCodes } from '../registry/create-order.ts';
import type { TargetResult } from '../registry/types.ts';
import { writeFileDurably } from '../util/durable-file.ts';
import { type Command, parseFlags, UsageError } from './command.ts';
import {
  formatFromName,
  IMPORT_FORMATS,
  type ImportFormat,
  openInput,
  readTargets,
} from './import-formats.ts';
import { dataFlag, withRegistry } from './local-registry.ts';
import { Progress } from './progress.ts';

const SHOWN_PROBLEMS = 20;

export const importCommand: Command = {
  name: 'import',
  summary: 'import a list (plain, hosts, CSV, JSON lines; .gz ok) as ONE order in ONE version, streamed',
  usage:
    'import FILE|- --reference REF --authority AUTH --category CAT [--action block|redirect] [--reason TEXT]\n' +
    `       [--expires-at ISO|YYYY-MM-DD] [--format ${IMPORT_FORMATS.join('|')}] [--skip-invalid] [--override REASON]\n` +
    '       [--dry-run] [--rejects FILE] [--data ./data]\n' +
    '  Without --skip-invalid, one invalid or refused target aborts the whole import (nothing is written).\n' +
    '  --dry-run reports what would happen and writes nothing; --rejects writes each refused line as CODE<TAB>LINE.',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        ...dataFlag,
        reference: { type: 'string' },
        authority: { type: 'string' },
        category: { type: 'string' },
        action: { type: 'string' },
        reason: { type: 'string' },
        'expires-at': { type: 'string' },
        format: { type: 'string' },
        'skip-invalid': { type: 'boolean' },
        override: { type: 'string' },
        'dry-run': { type: 'boolean' },
        rejects: { type: 'string' },
      },
      true,
    );
    const file = positionals[0];
    if (!file || positionals.length > 1)
      throw new UsageError('give exactly one FILE (or - for standard input)');
    if (!values.reference || !values.authority)
      throw new UsageError('--reference and --authority are required');
    const category = values.category as Category;
    if (!CATEGORIES.includes(category))
      throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
    const action = (values.action ?? 'block') as Action;
    if (!ACTIONS.includes(action)) throw new UsageError(`--action must be one of ${ACTIONS.join(', ')}`);
    const format = (values.format ?? formatFromName(file)) as ImportFormat;
    if (!IMPORT_FORMATS.includes(format))
      throw new UsageError(`--format must be one of ${IMPORT_FORMATS.join(', ')}`);

    return withRegistry(values.data, async (registry) => {
      const begun = registry.beginImport(
        {
          reference: values.reference as string,
          authority: values.authority as string,
          category,
          action,
          reason: values.reason ?? null,
          expiresAt: values['expires-at'] ?? null,
          ...(values.override ? { override: { reason: values.override } } : {}),
        },
        `cli:${process.env.USER ?? 'operator'}`,
      );
      if (!begun.ok) throw new Error(begun.error.message);
      const session = begun.value;
      const progress = new Progress(`import ${values.reference}`);
      const problems: string[] = [];
      const byCode: Record<string, number> = {};
      const rejectLines: string[] = [];
      let lines = 0;
      let rejected = 0;
      let accepted = 0;
      const refuse = (code: string, shown: string, line: string) => {
        rejected++;
        byCode[code] = (byCode[code] ?? 0) + 1;
        if (problems.length < SHOWN_PROBLEMS) problems.push(shown);
        if (values.rejects !== undefined) rejectLines.push(`${code}\t${line.replace(/[\t\r\n]/g, ' ')}\n`);
      };
      try {
        const chunks = readTargets(openInput(file), format, (bad) => {
          refuse(bad.code, `line ${bad.line}: ${bad.reason}`, bad.text);
        });
        for await (const chunk of chunks) {
          lines += chunk.length;
          const result = session.add(chunk);
          accepted += result.added + result.alreadyActive + result.duplicate;
          for (const r of result.rejected) refuse(r.code ?? 'rejected', describe(r), r.target);
          progress.update(lines, rejected ? `(${rejected} refused)` : '');
        }
      } catch (err) {
        session.abort();
        progress.done();
        throw err;
      }
      progress.done();
      if (values.rejects !== undefined)
        await writeFileDurably(values.rejects, rejectLines.join(''), { mode: 0o644 });
      for (const p of problems) console.error(`  refused: ${p}`);
      if (rejected > SHOWN_PROBLEMS) console.error(`  ... and ${rejected - SHOWN_PROBLEMS} more`);
      if (rejected > 0) {
        console.error(`  refused by code: ${describeCodes(byCode)}`);
        if (values.rejects !== undefined) console.error(`  every refused line: ${values.rejects}`);
      }
      if (values['dry-run']) {
        const totals = session.totals;
        session.abort();
        console.log(
          `dry run: ${lines} targets: ${totals.added} would be added, ${totals.alreadyActive} already active, ` +
            `${totals.duplicate} duplicates, ${rejected} refused${rejected ? ` (${describeCodes(byCode)})` : ''}; nothing written`,
        );
        return rejected > 0 && !values['skip-invalid'] ? 1 : 0;
      }
      if (rejected > 0 && !values['skip-invalid']) {
        session.abort();
        console.error(
          `import aborted: ${rejected} of ${lines} targets refused, nothing written (--skip-invalid to skip them)`,
        );
        return 1;
      }
      if (accepted === 0) {
        // Like an API order without targets: an empty order would only add a version that changes nothing.
        session.abort();
        console.error(`import aborted: no target to import (${rejected} refused), nothing written`);
        return 1;
      }
      const { totals, version, order } = session.commit();
      console.log(
        `imported order ${order.id} (${order.reference}) as version ${version}: ${totals.added} added, ` +
          `${totals.alreadyActive} already active, ${totals.duplicate} duplicates, ${rejected} refused` +
          `${rejected ? ` (${describeCodes(byCode)})` : ''}, ` +
          `in ${progress.elapsedSeconds().toFixed(1)} s`,
      );
      return 0;
    });
  },
};

const describe = (r: TargetResult) =>
  `${r.target}: ${r.code ?? r.status}${r.message ? ` (${r.message})` : ''}`;
