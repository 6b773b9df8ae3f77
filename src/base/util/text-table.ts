/** Plain-text tables for terminals and reports: rows of cells as aligned lines. */

export interface TextTableOptions {
  /** Columns aligned to the right (numbers); the others are aligned to the left. */
  right?: (column: number) => boolean;
}

/** The rows as lines, each column as wide as its widest cell, two spaces apart, no trailing spaces; and those widths. */
export function textTable(rows: readonly (readonly string[])[], options: TextTableOptions = {}): { lines: string[]; widths: number[] } {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) => Math.max(0, ...rows.map((row) => row[column]?.length ?? 0)));
  const align = (cell: string, column: number) => (options.right?.(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!));
  const lines = rows.map((row) => row.map(align).join("  ").trimEnd());
  return { lines, widths };
}
