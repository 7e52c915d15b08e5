import { cpus } from 'node:os';
import { benchColdStart, BUNDLE_DETAIL_HEADER, bundleDetails, coldStartNotes, coldStartRows } from './cold-start.bench';
import { costBreakdown, costCases, costNotes, costRows } from './cost';
import { benchFanout, FANOUT_DETAIL_HEADER, fanoutDetails, fanoutRows, type FanoutCase } from './fanout.bench';
import { ingestNotes, ingestRows, measureHandlers } from './handlers.bench';
import { benchLocalThroughput, benchStartup } from './local.bench';
import { formatMarkdownTable, formatTable, type BenchRow } from './report';

/**
 * Fan-out cases that fit the 5-minute budget on 2 cores, measured as one invocation delivering
 * every page in turn. 100,000 devices would take ⌈100000/16⌉ × 20 ms = 125 s at the default C even
 * at its floor, and ~1.5 min of CPU here; in the cloud delivery splits it into 100 continuation
 * messages of 1,000 devices (lambdas/core/delivery.ts), so the 1,000-device page is the unit that
 * matters. HERALD_BENCH_LARGE=1 adds 100,000 devices at C = 64 (about 3 minutes more).
 */
const FANOUT_CASES: FanoutCase[] = [
  { devices: 100, concurrency: 16 },
  { devices: 1_000, concurrency: 16 },
  { devices: 10_000, concurrency: 16 },
  { devices: 10_000, concurrency: 64 },
  ...(process.env.HERALD_BENCH_LARGE ? [{ devices: 100_000, concurrency: 64 }] : []),
];

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * `npm run bench`: each figure next to a floor measured (or, for the cost model, computed from
 * list prices) in the same run on the same machine, since absolute times on a shared 2-core box are
 * noise. Prints Markdown (the tables of BENCHMARKS.md) to stdout, progress to stderr.
 */
async function main(): Promise<void> {
  const started = performance.now();
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const rows: BenchRow[] = [];
  const sections: string[] = [];
  const notes: string[] = [];

  progress('cold start: bundling with esbuild as CDK does, loading each bundle in fresh processes…');
  const coldStart = await benchColdStart();
  rows.push(...coldStartRows(coldStart));
  notes.push(...coldStartNotes(coldStart));
  sections.push(`### Bundles (esbuild as CDK bundles them; load = median \`require()\` in a fresh node)\n\n${formatMarkdownTable(BUNDLE_DETAIL_HEADER, bundleDetails(coldStart))}`);

  progress('ingest and delivery handlers (worker process, dynalite in its own process)…');
  const handlers = await measureHandlers();
  rows.push(...ingestRows(handlers));
  notes.push(...ingestNotes(handlers));

  progress('fan-out: deliverNotification to N devices in dynalite, fake SNS with L = 20 ms…');
  const fanout = await benchFanout(FANOUT_CASES);
  rows.push(...fanoutRows(fanout));
  sections.push(`### Fan-out: where the time goes\n\n${formatMarkdownTable(FANOUT_DETAIL_HEADER, fanoutDetails(fanout, handlers.sdkCallCpuMs.snsPublish))}`);

  const cases = costCases(handlers);
  rows.push(...costRows(cases));
  const breakdown = costBreakdown(cases);
  sections.push(`### Cost per service (us-east-1 list prices, arm64)\n\n${formatMarkdownTable(breakdown.header, breakdown.rows)}`);
  notes.push(...costNotes(handlers, cases));

  progress('local mode: npm start to ready, end-to-end throughput…');
  for (const bench of [benchStartup, () => benchLocalThroughput()]) {
    const row = await bench();
    rows.push(row);
    progress(`  ${row.name}: ${row.value.toFixed(1)} ${row.unit}`);
  }

  const seconds = (performance.now() - started) / 1000;
  const out = process.stdout;
  out.write(`\nHerald benchmarks — ${new Date().toISOString()} — Node ${process.version}, ${cpus().length} cores — ${seconds.toFixed(0)} s\n\n`);
  out.write(`${formatTable(rows)}\n\n`);
  out.write(`${sections.join('\n\n')}\n\n`);
  out.write(`### Notes\n\n${notes.map((note) => `- ${note}`).join('\n')}\n`);
  const missed = rows.filter((row) => row.met === false).map((row) => row.name);
  out.write(`\nGoals met: ${rows.filter((row) => row.met).length} of ${rows.filter((row) => row.met !== undefined).length}${missed.length ? `; missed: ${missed.join('; ')}` : ''}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
