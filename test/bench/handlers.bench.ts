import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { dynamoEnvironment, startDynaliteProcess } from './dynalite-process';
import type { HandlerMeasurements, WorkerOptions } from './handlers.worker';
import type { BenchRow } from './report';

export const INGEST_CPU_GOAL = 5;

/**
 * An SNS stand-in for the SDK's Query protocol: every request (a Publish) is answered with a
 * PublishResponse after `latencyMs`. It runs in this process, so the worker's CPU figures include
 * the real SNS client's work (serialize, sign, HTTP, parse) and none of the stand-in's.
 */
async function startSnsStub(latencyMs: number): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const reply = () =>
        response
          .writeHead(200, { 'content-type': 'text/xml' })
          .end(
            `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult>` +
              `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
          );
      if (latencyMs > 0) setTimeout(reply, latencyMs);
      else reply();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Runs handlers.worker.ts in a fresh process (so the CPU counted is the handlers' and their SDK
 * clients', with dynalite in a third process and SNS answered from this one) and collects what it
 * measured.
 */
export async function measureHandlers(options: Partial<WorkerOptions> = {}): Promise<HandlerMeasurements> {
  const workerOptions: WorkerOptions = { requests: 2000, warmUp: 300, sqsLatencyMs: 10, snsLatencyMs: 20, wallRequests: 110, deliveryBatches: 20, ...options };
  const dynalite = await startDynaliteProcess();
  const sns = await startSnsStub(workerOptions.snsLatencyMs);
  const snsWithoutLatency = await startSnsStub(0);
  try {
    const child = fork(path.join(__dirname, 'handlers.worker.ts'), [], {
      execArgv: [...process.execArgv, '--expose-gc'],
      // stdout (the handlers' logs) goes to /dev/null; the worker counts its bytes itself.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        PATH: process.env.PATH,
        ...dynamoEnvironment(dynalite.endpoint),
        AWS_ENDPOINT_URL_SNS: sns.endpoint,
        BENCH_SNS_ENDPOINT_WITHOUT_LATENCY: snsWithoutLatency.endpoint,
        TABLE_NAME: 'herald-bench',
        // Never reached: every ingest handler is given a queue stub.
        QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/herald-bench',
        BENCH_WORKER_OPTIONS: JSON.stringify(workerOptions),
        // What the stack sets (lib/herald-function.ts), and what Lambda sets for a traced function.
        POWERTOOLS_SERVICE_NAME: 'herald',
        POWERTOOLS_METRICS_NAMESPACE: 'Herald',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        AWS_LAMBDA_FUNCTION_NAME: 'herald-bench',
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
    for (const stub of [sns, snsWithoutLatency]) {
      stub.server.closeAllConnections();
      stub.server.close();
    }
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

/** How much of the ingest CPU its DynamoDB calls alone would take, and what it logs. */
export function ingestNotes(measured: HandlerMeasurements): string[] {
  return measured.ingest.map((ingest) => {
    const calls = Object.entries(ingest.dynamo.calls);
    const count = (kind: string) => calls.filter(([call]) => call.startsWith(kind)).reduce((sum, [, c]) => sum + c.calls, 0);
    const [gets, puts] = [count('Get'), count('Put')];
    const sdkMs = gets * measured.sdkCallCpuMs.getItem + puts * measured.sdkCallCpuMs.conditionalPutItem;
    return (
      `ingest ${ingest.payload}: ${(ingest.cpuMs * 1000).toFixed(0)} µs CPU per request; its ${gets} GetItem + ${puts} PutItem ` +
      `cost ${(sdkMs * 1000).toFixed(0)} µs when made bare through the same SDK client (the handler takes ${(ingest.cpuMs / sdkMs).toFixed(1)}× that); ` +
      `the SQS send is stubbed, so its SDK CPU is not counted. ${ingest.logBytes.toFixed(0)} B logged per request.`
    );
  });
}
