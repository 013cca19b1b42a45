// Fixed-width columns for a terminal: the column names head the rows.
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = [columns, ...rows.map((r) => columns.map((c) => String(r[c] ?? '')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
