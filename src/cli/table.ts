/** Rows as aligned text columns under a header; cells are shown as text, null as '-'. */
export function table(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v).replace(/\s+/g, ' '));
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line([...columns]), ...cells.map(line)].join('\n');
}

/** The JSON of a reply with `--json`, else `render(reply)`. */
export function print(json: boolean | undefined, reply: unknown, render: () => string): void {
  console.log(json ? JSON.stringify(reply) : render());
}
