/** One benchmark figure with the floor measured (or computed) in the same run. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly floor: number;
  readonly floorName: string;
  readonly goal: string;
  /** Absent for a figure shown for information, with no goal of its own. */
  readonly met?: boolean;
  /** For rates: the ratio is floor / value, so lower is still better. */
  readonly higherIsBetter?: boolean;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** How far the figure is from its floor: ≥ 1, lower is better. */
export function ratio(row: BenchRow): number {
  return row.higherIsBetter ? row.floor / row.value : row.value / row.floor;
}

function formatNumber(n: number, unit: string): string {
  if (unit === '$') return `$${n.toFixed(n >= 10 ? 2 : 3)}`;
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(n >= 10 ? 1 : 2);
}

function withUnit(n: number, unit: string): string {
  return unit === '$' ? formatNumber(n, unit) : `${formatNumber(n, unit)} ${unit}`;
}

export function formatTable(rows: readonly BenchRow[]): string {
  return formatMarkdownTable(
    ['figure', 'Herald', 'floor', 'ratio', 'goal', 'met'],
    rows.map((row) => [
      row.name,
      withUnit(row.value, row.unit),
      `${withUnit(row.floor, row.unit)} (${row.floorName})`,
      `${ratio(row).toFixed(2)}×`,
      row.goal,
      row.met === undefined ? '—' : row.met ? 'yes' : '**no**',
    ]),
  );
}

export function formatMarkdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}
