import type { ChangeRecord } from './types.ts';

// The change log as files a person opens elsewhere: CSV (RFC 4180) and JSON lines, one change per line, the
// same fields in the same order in both; used by `takedown audit export` and the console's audit page.

export const CHANGE_FIELDS = [
  'seq',
  'version',
  'op',
  'expression',
  'kind',
  'category',
  'action',
  'orderId',
  'orderRef',
  'actor',
  'note',
  'reason',
  'release',
  'approval',
  'prevHash',
  'hash',
] as const satisfies ReadonlyArray<keyof ChangeRecord>;

export type ExportFormat = 'csv' | 'jsonl';

const csvCell = (value: unknown) => {
  const text = String(value ?? '');
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** The first line of an export: the CSV header, nothing for JSON lines. */
export const exportHeader = (format: ExportFormat) =>
  format === 'csv' ? `${CHANGE_FIELDS.join(',')}\r\n` : '';

/** Changes as lines of `format`, each ending in its line break. */
export function exportLines(format: ExportFormat, changes: readonly ChangeRecord[]): string {
  return changes
    .map((change) =>
      format === 'csv'
        ? `${CHANGE_FIELDS.map((f) => csvCell(change[f])).join(',')}\r\n`
        : `${JSON.stringify(Object.fromEntries(CHANGE_FIELDS.map((f) => [f, change[f]])))}\n`,
    )
    .join('');
}
