/** An error the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {}

export interface OutputOptions {
  readonly json?: boolean;
}

/** Prints `data` as JSON for scripts, or as aligned `label: value` lines for people. */
export function print(options: OutputOptions, data: unknown, lines: [string, string | undefined][]): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const shown = lines.filter((line): line is [string, string] => line[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  for (const [label, value] of shown) process.stdout.write(`${`${label}:`.padEnd(width + 2)}${value}\n`);
}

/** A table column: its heading and how to show one item in it. */
export type Column<T> = readonly [heading: string, cell: (item: T) => string | undefined];

/**
 * Prints `data` as JSON for scripts, or `items` as a table for people: one row per item, columns
 * aligned, `-` for an empty cell, and `empty` instead of a table without rows.
 */
export function printTable<T>(options: OutputOptions, data: unknown, items: readonly T[], columns: readonly Column<T>[], empty: string): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatTable(items, columns, empty));
}

export function formatTable<T>(items: readonly T[], columns: readonly Column<T>[], empty: string): string {
  if (items.length === 0) return `${empty}\n`;
  // One line per row: a newline or tab inside a value (a notification title) would break the columns.
  const rows = [columns.map(([heading]) => heading), ...items.map((item) => columns.map(([, cell]) => oneLine(cell(item) || '-')))];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => row[index]!.length)));
  return rows.map((row) => row.map((value, index) => (index === row.length - 1 ? value : value.padEnd(widths[index]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ');
}

/** A long text cut for a table cell. */
export function shorten(value: string | undefined, length = 48): string | undefined {
  if (value === undefined) return undefined;
  const line = oneLine(value);
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}
