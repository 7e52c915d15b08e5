/** One benchmark figure with the floor measured in the same run. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly floor: number;
  readonly floorName: string;
  readonly goal: string;
  readonly met: boolean;
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

export function formatTable(rows: readonly BenchRow[]): string {
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  const lines = [
    '| figure | Herald | floor | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.name} | ${fmt(row.value)} ${row.unit} | ${fmt(row.floor)} ${row.unit} (${row.floorName}) | ${ratio(row).toFixed(2)}× | ${row.goal} | ${row.met ? 'yes' : '**no**'} |`),
  ];
  return lines.join('\n');
}
