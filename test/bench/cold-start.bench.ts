import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { median, type BenchRow } from './report';

const ROOT = path.join(__dirname, '..', '..');

export const COLD_START_GOAL = 1.5;

/** The esbuild options CDK's NodejsFunction uses for Herald (lib/herald-function.ts `bundling`). */
const CDK_BUNDLING: BuildOptions = {
  bundle: true,
  platform: 'node',
  // Node 22 syntax runs on the Node 20 this benchmark may run on: nothing is lowered either way.
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  external: ['@aws-sdk/*'],
  absWorkingDir: ROOT,
  metafile: true,
  logLevel: 'warning',
};

/**
 * The SDK clients each function uses: its floor loads these and nothing else. Delivery uses SQS
 * too since large buckets continue in messages on the queue (lambdas/delivery/index.ts).
 */
const FLOOR_CLIENTS: Record<string, string[]> = {
  ingest: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/client-sns', '@aws-sdk/client-secrets-manager'],
  delivery: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-sns', '@aws-sdk/client-sqs'],
};

export interface Bundle {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** The `@aws-sdk/*` packages the bundle requires (left to the Lambda runtime). */
  readonly sdkPackages: string[];
  /** Bytes in the output by package (or by folder for Herald's own code), largest first. */
  readonly composition: [string, number][];
  /** Herald's modules that import zod, which is most of each bundle. */
  readonly zodImporters: string[];
}

export interface ColdStartMeasurement {
  readonly bundles: Record<string, Bundle>;
  /** Median module-load time by bundle name, ms. */
  readonly loadMs: Record<string, number>;
  /** The middle half of the samples (25th to 75th percentile), ms: how noisy the run was. */
  readonly loadSpreadMs: Record<string, [number, number]>;
  readonly runs: number;
}

async function bundle(outDir: string, name: string, entry: { file: string } | { contents: string }): Promise<Bundle> {
  const outfile = path.join(outDir, name, 'index.js');
  const result = await build({
    ...CDK_BUNDLING,
    outfile,
    ...('file' in entry ? { entryPoints: [path.join(ROOT, entry.file)] } : { stdin: { contents: entry.contents, loader: 'ts', resolveDir: ROOT } }),
  });
  // The metafile lists the bundle and its source map; the bundle is the `.js` one.
  const output = Object.entries((result.metafile as Metafile).outputs).find(([file]) => file.endsWith('.js'))![1];
  const code = readFileSync(outfile);
  const byPackage = new Map<string, number>();
  for (const [input, info] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 3).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
  }
  return {
    name,
    file: outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    sdkPackages: [...new Set(output.imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path))].sort(),
    composition: [...byPackage].sort((a, b) => b[1] - a[1]),
    zodImporters: Object.entries((result.metafile as Metafile).inputs)
      .filter(([input, info]) => input.startsWith('lambdas/') && info.imports.some((i) => /node_modules\/zod\//.test(i.path)))
      .map(([input]) => input),
  };
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))]!;
}

/** Milliseconds to `require()` the file in a fresh Node process, as the Lambda runtime loads a handler. */
function loadTime(file: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint() - t) / 1e6);`;
  const child = spawnSync(process.execPath, ['-e', script], {
    cwd: path.dirname(file),
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      // The SDK is external, as in Lambda (where the runtime provides it): resolve it from here.
      NODE_PATH: path.join(ROOT, 'node_modules'),
      // What the stack sets (lib/herald-function.ts): source maps are read when the bundle loads.
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'herald',
      POWERTOOLS_METRICS_NAMESPACE: 'Herald',
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'herald-bench',
    },
  });
  const ms = Number(child.stdout.trim().split('\n').pop());
  if (child.status !== 0 || !Number.isFinite(ms)) throw new Error(`loading ${file} failed (${child.status}): ${child.stderr}`);
  return ms;
}

/**
 * Bundles both handlers as CDK would deploy them, and floor bundles that only load the same SDK
 * clients, then times `require()` of each in fresh processes, interleaved so drift hits all alike.
 * A bundle of zod alone shows how much of the load is the schema library.
 */
export async function benchColdStart(runs = 21): Promise<ColdStartMeasurement> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'herald-bench-'));
  try {
    const sdkOnly = (clients: readonly string[]) => ({ contents: clients.map((client, i) => `export * as sdk${i} from '${client}';`).join('\n') });
    const handlers = [await bundle(outDir, 'ingest', { file: 'lambdas/ingest/index.ts' }), await bundle(outDir, 'delivery', { file: 'lambdas/delivery/index.ts' })];
    const bundles: Bundle[] = [...handlers];
    for (const [name, clients] of Object.entries(FLOOR_CLIENTS)) bundles.push(await bundle(outDir, `floor-${name}`, sdkOnly(clients)));
    // Where a handler requires more SDK clients than it uses, time those too: the extra is Herald's.
    for (const handler of handlers) {
      if (handler.sdkPackages.join() !== [...FLOOR_CLIENTS[handler.name]!].sort().join()) {
        bundles.push(await bundle(outDir, `sdk-of-${handler.name}`, sdkOnly(handler.sdkPackages)));
      }
    }
    bundles.push(await bundle(outDir, 'zod-only', { contents: "export { z } from 'zod';" }));
    const samples = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
    for (let run = 0; run < runs; run += 1) {
      // Rotate the order each run: no bundle always goes first after a pause.
      for (let i = 0; i < bundles.length; i += 1) {
        const b = bundles[(run + i) % bundles.length]!;
        samples.get(b.name)!.push(loadTime(b.file));
      }
    }
    return {
      bundles: Object.fromEntries(bundles.map((b) => [b.name, b])),
      loadMs: Object.fromEntries([...samples].map(([name, values]) => [name, median(values)])),
      loadSpreadMs: Object.fromEntries([...samples].map(([name, values]) => [name, [quantile(values, 0.25), quantile(values, 0.75)]])),
      runs,
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

export function coldStartRows(measured: ColdStartMeasurement): BenchRow[] {
  return (['ingest', 'delivery'] as const).map((name) => {
    const value = measured.loadMs[name]!;
    const floor = measured.loadMs[`floor-${name}`]!;
    return {
      name: `cold start: ${name} bundle load (median of ${measured.runs})`,
      value,
      unit: 'ms',
      floor,
      floorName: `a bundle loading only ${FLOOR_CLIENTS[name]!.map((c) => c.replace('@aws-sdk/', '')).join(', ')}`,
      goal: `≤ ${COLD_START_GOAL}×`,
      met: value / floor <= COLD_START_GOAL,
    };
  });
}

/** Rows for the bundle table: size, gzip, SDK clients loaded, and what fills the bundle. */
export function bundleDetails(measured: ColdStartMeasurement): string[][] {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  return Object.values(measured.bundles).map((b) => [
    b.name,
    `${b.bytes.toLocaleString('en-US')} B (${kb(b.bytes)})`,
    `${b.gzipBytes.toLocaleString('en-US')} B (${kb(b.gzipBytes)})`,
    `${measured.loadMs[b.name]!.toFixed(1)} ms (${measured.loadSpreadMs[b.name]!.map((v) => v.toFixed(0)).join('–')})`,
    b.sdkPackages.map((p) => p.replace('@aws-sdk/', '')).join(', ') || '—',
    b.composition
      .slice(0, 3)
      .filter(([, bytes]) => bytes > 0)
      .map(([pkg, bytes]) => `${pkg} ${((bytes / b.bytes) * 100).toFixed(0)} %`)
      .join(', '),
  ]);
}

export const BUNDLE_DETAIL_HEADER = ['bundle', 'size', 'gzip', 'load: median (middle half)', 'SDK packages required', 'largest parts'];

/** What the load-time gap to the floor is made of, as far as the extra bundles tell. */
export function coldStartNotes(measured: ColdStartMeasurement): string[] {
  const ms = (name: string) => measured.loadMs[name]!;
  return (['ingest', 'delivery'] as const).map((name) => {
    const gap = ms(name) - ms(`floor-${name}`);
    const extraSdk = measured.loadMs[`sdk-of-${name}`];
    const sdkPart =
      extraSdk === undefined
        ? ''
        : `; it also requires ${measured.bundles[`sdk-of-${name}`]!.sdkPackages.filter((p) => !FLOOR_CLIENTS[name]!.includes(p)).join(', ')}, which it never uses` +
          (extraSdk > ms(`floor-${name}`) ? `: ${(extraSdk - ms(`floor-${name}`)).toFixed(1)} ms of the gap` : ' (its load time is within the noise of this run)');
    const bundle = measured.bundles[name]!;
    const zodKb = (bundle.composition.find(([p]) => p === 'zod')?.[1] ?? 0) / 1024;
    return (
      `cold start ${name}: ${gap.toFixed(1)} ms over its floor; zod alone loads in ${ms('zod-only').toFixed(1)} ms and is ${zodKb.toFixed(0)} KB of the bundle ` +
      `(imported by ${bundle.zodImporters.join(', ') || 'nothing'})${sdkPart}.`
    );
  });
}
