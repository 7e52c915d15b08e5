import { fork } from 'node:child_process';
import * as path from 'node:path';
import { dynamoEnvironment, startDynaliteProcess } from './dynalite-process';
import type { HandlerMeasurements, WorkerOptions } from './handlers.worker';
import type { BenchRow } from './report';

export const INGEST_CPU_GOAL = 5;

/**
 * Runs handlers.worker.ts in a fresh process (so the CPU counted is the handlers' and their SDK
 * clients', with dynalite in a third process) and collects what it measured.
 */
export async function measureHandlers(options: Partial<WorkerOptions> = {}): Promise<HandlerMeasurements> {
  const workerOptions: WorkerOptions = { requests: 2000, warmUp: 300, sqsLatencyMs: 10, snsLatencyMs: 20, wallRequests: 110, ...options };
  const dynalite = await startDynaliteProcess();
  try {
    const child = fork(path.join(__dirname, 'handlers.worker.ts'), [], {
      execArgv: [...process.execArgv, '--expose-gc', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE] : [])],
      // stdout (the handlers' logs) goes to /dev/null; the worker counts its bytes itself.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        PATH: process.env.PATH,
        ...dynamoEnvironment(dynalite.endpoint),
        TABLE_NAME: 'herald-bench',
        // Never reached: every handler instance is given a queue stub.
        QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/herald-bench',
        BENCH_WORKER_OPTIONS: JSON.stringify(workerOptions),
        // What the stack sets (lib/herald-function.ts), and what Lambda sets for a traced function.
        POWERTOOLS_SERVICE_NAME: 'herald',
        POWERTOOLS_METRICS_NAMESPACE: 'Herald',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        AWS_LAMBDA_FUNCTION_NAME: 'herald-bench',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        _X_AMZN_TRACE_ID: 'Root=1-6740a7c4-3f1c9b2e8d6a4c0b9e7f3a21;Parent=5b1e7c2a9f3d4e6b;Sampled=1',
        DELIVERY_CONCURRENCY: '16',
      },
    });
    return await new Promise<HandlerMeasurements>((resolve, reject) => {
      let result: HandlerMeasurements | undefined;
      child.on('message', (message) => (result = message as HandlerMeasurements));
      child.once('error', reject);
      child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`handlers worker exited ${code} without results`))));
    });
  } finally {
    await dynalite.stop();
  }
}

/** CPU per request through the real ingest handler, against parse + hash + stringify of the body. */
export function ingestRows(measured: HandlerMeasurements): BenchRow[] {
  return measured.ingest.map((m) => {
    const value = m.cpuMs * 1000;
    const floor = m.floorCpuMs * 1000;
    return {
      name: `ingest CPU per request: ${m.payload} (${m.bodyBytes} B, ${m.requests} requests)`,
      value,
      unit: 'µs',
      floor,
      floorName: 'JSON.parse + sha256 + JSON.stringify of the body',
      goal: `≤ ${INGEST_CPU_GOAL}×`,
      met: value / floor <= INGEST_CPU_GOAL,
    };
  });
}
