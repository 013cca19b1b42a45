// Fixed-width columns for a terminal: the column names head the rows.

/** What a table cell holds: printed as it is, empty when absent. */
type Cell = string | number | boolean | undefined;

/** Rows with at least the named columns, each a printable value (objects are flattened by the caller). */
export function table<C extends string>(rows: readonly { readonly [K in NoInfer<C>]?: Cell }[], columns: readonly C[]): string {
  const cells = [[...columns], ...rows.map((r) => columns.map((c) => String(r[c] ?? '')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) =>
      row
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
