import { benchLocalThroughput, benchStartup } from './local.bench';
import { formatTable, type BenchRow } from './report';

/**
 * `npm run bench`: each figure next to a floor measured in the same run on the same machine, since
 * absolute times on a shared 2-core box are noise. Prints a Markdown table (for BENCHMARKS.md).
 */
async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const rows: BenchRow[] = [];
  for (const bench of [benchStartup, () => benchLocalThroughput()]) {
    const row = await bench();
    rows.push(row);
    process.stderr.write(`${row.name}: ${row.value.toFixed(1)} ${row.unit}\n`);
  }
  process.stdout.write(`\nHerald benchmarks — ${new Date().toISOString()} — Node ${process.version}, ${require('node:os').cpus().length} cores\n\n`);
  process.stdout.write(`${formatTable(rows)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
