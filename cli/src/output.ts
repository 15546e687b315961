// Human output: aligned tables and label/value blocks. Machine output is --json, handled by oclif.

export interface Column<Row> {
  header: string;
  get: (row: Row) => string;
}

/** Left-aligned columns separated by two spaces, with an upper-case header row. */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = [columns.map((column) => column.header.toUpperCase()), ...rows.map((row) => columns.map((column) => oneLine(column.get(row))))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]!.length)));
  return cells
    .map((line) =>
      line
        .map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Label/value lines; a value with several lines is indented under its label. */
export function details(pairs: readonly (readonly [string, string | readonly string[] | null | undefined])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length)) + 1;
  const lines: string[] = [];
  for (const [label, value] of pairs) {
    const values = value === null || value === undefined ? ['-'] : typeof value === 'string' ? [value] : value.length ? value : ['-'];
    values.forEach((text, index) => lines.push(`${(index === 0 ? `${label}:` : '').padEnd(width)} ${oneLine(text)}`.trimEnd()));
  }
  return lines.join('\n');
}

/** Control characters from the server must not move the cursor or recolour the terminal. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

/** `2025-01-31T10:00:00.000Z` → `2025-01-31 10:00`. */
export function shortDate(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '-';
}
