/**
 * Runs in a child process forked by handlers.bench.ts: the real ingest and delivery handlers, as
 * deployed (logger at INFO, EMF metrics on, written to stdout), against dynalite in another process.
 * Reports CPU, wall time, log bytes and DynamoDB calls per notification over IPC.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { stampNotification, validateNotification } from '../../lambdas/core/notification';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createStore } from '../../lambdas/core/store/table';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { ensureTable } from '../../lambdas/local/stand-ins';
import { countingDynamoClient, type DynamoCounts } from './dynalite-process';
import { LatencyGateway, LatencyQueue, seedDevices } from './devices';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** What the worker measured, sent to the parent. */
export interface HandlerMeasurements {
  readonly ingest: IngestMeasurement[];
  readonly deliverySingle: DeliveryMeasurement;
  readonly deliveryBucket: DeliveryMeasurement;
}

export interface IngestMeasurement {
  readonly payload: string;
  readonly bodyBytes: number;
  readonly requests: number;
  /** Handler CPU (user + system) per request, ms, with a queue that answers at once. */
  readonly cpuMs: number;
  /** Floor: JSON.parse + sha256(body) + JSON.stringify, per request, ms. */
  readonly floorCpuMs: number;
  /** Handler wall time per request, ms, with SQS's round trip injected into the queue. */
  readonly wallMs: number;
  readonly sqsLatencyMs: number;
  /** Bytes the handler wrote to stdout (its log lines and EMF metrics) per request. */
  readonly logBytes: number;
  readonly dynamo: DynamoPerNotification;
}

export interface DeliveryMeasurement {
  readonly devices: number;
  /** Notifications per invocation (an SQS batch). */
  readonly batchSize: number;
  readonly invocations: number;
  /** Per invocation. */
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly logBytes: number;
  readonly snsLatencyMs: number;
  readonly concurrency: number;
  /** Per notification. */
  readonly dynamo: DynamoPerNotification;
}

export interface DynamoPerNotification {
  readonly calls: Record<string, number>;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface WorkerOptions {
  readonly requests: number;
  readonly warmUp: number;
  readonly sqsLatencyMs: number;
  readonly snsLatencyMs: number;
  readonly wallRequests: number;
}

// Every byte the handlers log goes through here: Powertools writes to process.stdout.
let stdoutBytes = 0;
const write = process.stdout.write.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean;
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  stdoutBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  return write(chunk, ...rest);
}) as typeof process.stdout.write;

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;

interface Payload {
  readonly name: string;
  readonly body: Buffer;
  /** The request for the i-th event; each one differs, so every dedupe claim is a fresh one. */
  event(index: number): APIGatewayProxyEventV2;
}

function httpEvent(method: string, rawPath: string, query: Record<string, string>, headers: Record<string, string>, body: string): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath.startsWith('/webhooks/') ? '/webhooks/{source}' : rawPath}`,
    rawPath,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { host: 'push.example.com', 'content-length': String(Buffer.byteLength(body)), ...headers },
    queryStringParameters: query,
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'push.example.com',
      domainPrefix: 'push',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: headers['user-agent'] ?? 'bench' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body,
    isBase64Encoded: false,
  };
}

function payloads(token: string, magicCode: string): Payload[] {
  const authentik = readFileSync(path.join(FIXTURES, 'authentik', 'webhook-login-failed.json'), 'utf8');
  const zitadel = readFileSync(path.join(FIXTURES, 'zitadel', 'event-user-locked.json'), 'utf8');
  const native = JSON.stringify({ title: 'Login failed: jdoe', subtitle: 'authentik', body: 'Three failed password attempts from 203.0.113.7 (Lisbon, PT)', tapUrl: 'https://auth.example.com/if/admin/#/events/log', tags: 'security,login' });
  // The authentik event's identity is its text: vary its request id (same length) per event.
  const requestId = '4f1c9b2e8d6a4c0b9e7f3a21d5c8b690';
  if (!authentik.includes(requestId) || !zitadel.includes('"sequence":15')) throw new Error('bench fixtures changed: update the per-event variation');
  return [
    {
      name: 'authentik',
      body: Buffer.from(authentik),
      event: (index) =>
        httpEvent('POST', '/transform', { parser: 'ZENTIK_AUTHENTIK', token }, { 'content-type': 'application/json', 'user-agent': 'authentik@2025.10.1' },
          authentik.replace(requestId, createHash('md5').update(String(index)).digest('hex'))),
    },
    {
      name: 'ZITADEL',
      body: Buffer.from(zitadel),
      event: (index) =>
        httpEvent('POST', '/webhooks/zitadel', { magicCode }, { 'content-type': 'application/json', 'user-agent': 'Go-http-client/2.0' },
          zitadel.replace('"sequence":15', `"sequence":${1000 + index}`)),
    },
    {
      name: 'native',
      body: Buffer.from(native),
      event: (index) => httpEvent('POST', '/message', {}, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, native.replace('(Lisbon, PT)', `(Lisbon, PT) #${index}`)),
    },
  ];
}

type IngestHandler = Handler<APIGatewayProxyEventV2, { statusCode?: number; body?: string }>;

/** Each request must be answered 2xx and queue exactly one notification. */
async function runIngest(handler: IngestHandler, queue: LatencyQueue, events: APIGatewayProxyEventV2[]): Promise<void> {
  for (const event of events) {
    const queued = queue.enqueued;
    const result = await handler(event, lambdaContext('herald-ingest', 10_000));
    if ((result.statusCode ?? 0) >= 300 || queue.enqueued !== queued + 1) {
      throw new Error(`ingest answered ${result.statusCode} and queued ${queue.enqueued - queued}: ${result.body}`);
    }
  }
}

function perNotification(counts: DynamoCounts, notifications: number): DynamoPerNotification {
  return {
    calls: Object.fromEntries(Object.entries(counts.calls).map(([name, n]) => [name, n / notifications])),
    readUnits: counts.readUnits / notifications,
    writeUnits: counts.writeUnits / notifications,
  };
}

/** JSON.parse + sha256(body) + JSON.stringify: the least any handler of these bodies does. */
function floorCpuMs(bodies: readonly string[]): number {
  let sink = 0;
  const start = process.cpuUsage();
  for (const body of bodies) {
    const parsed: unknown = JSON.parse(body);
    sink += createHash('sha256').update(body).digest('hex').length;
    sink += JSON.stringify(parsed).length;
  }
  const ms = cpuMsSince(start);
  if (sink === 0) throw new Error('unreachable');
  return ms / bodies.length;
}

async function measureIngest(options: WorkerOptions, tableName: string, counting: ReturnType<typeof countingDynamoClient>): Promise<IngestMeasurement[]> {
  const store = createStore(tableName, new DynamoDBClient({}));
  const { token, magicCode } = await createBucket(store, { name: 'bench-ingest' });
  // Loaded after the environment is set, as Lambda loads a handler into a configured runtime.
  const { createIngestHandler } = await import('../../lambdas/ingest');
  // The handler's own store (TABLE_NAME, the SDK's endpoint variables); only the queue is a stub.
  const queue = new LatencyQueue(0);
  const slowQueue = new LatencyQueue(options.sqsLatencyMs);
  const ingest = createIngestHandler({ queue });
  const ingestWithSqsLatency = createIngestHandler({ queue: slowQueue });
  const ingestCounting = createIngestHandler({ queue, store: createStore(tableName, counting.client) });
  const results: IngestMeasurement[] = [];
  for (const payload of payloads(token, magicCode)) {
    let index = 0;
    const events = (count: number) => Array.from({ length: count }, () => payload.event(index++));
    await runIngest(ingest, queue, events(options.warmUp));

    const measured = events(options.requests);
    const bodies = measured.map((event) => event.body!);
    global.gc?.();
    const logsBefore = stdoutBytes;
    const cpuStart = process.cpuUsage();
    await runIngest(ingest, queue, measured);
    const cpuMs = cpuMsSince(cpuStart) / measured.length;
    const logBytes = (stdoutBytes - logsBefore) / measured.length;

    floorCpuMs(bodies.slice(0, options.warmUp));
    const floor = floorCpuMs(bodies);

    const slow = events(options.wallRequests);
    await runIngest(ingestWithSqsLatency, slowQueue, slow.slice(0, 10));
    const wallStart = performance.now();
    await runIngest(ingestWithSqsLatency, slowQueue, slow.slice(10));
    const wallMs = (performance.now() - wallStart) / (slow.length - 10);

    const counted = events(20);
    await runIngest(ingestCounting, queue, counted.slice(0, 1));
    counting.counts.reset();
    await runIngest(ingestCounting, queue, counted.slice(1));
    results.push({
      payload: payload.name,
      bodyBytes: payload.body.length,
      requests: measured.length,
      cpuMs,
      floorCpuMs: floor,
      wallMs,
      sqsLatencyMs: options.sqsLatencyMs,
      logBytes,
      dynamo: perNotification(counting.counts, counted.length - 1),
    });
    process.stderr.write(`  ingest ${payload.name}: ${cpuMs.toFixed(3)} ms CPU/request (floor ${floor.toFixed(4)} ms)\n`);
  }
  return results;
}

function sqsEvent(notifications: ReturnType<typeof stampNotification>[]): SQSEvent {
  return {
    Records: notifications.map((notification) => {
      const body = JSON.stringify({ notification });
      return {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'AROAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:herald-notifications',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

async function measureDelivery(
  options: WorkerOptions,
  tableName: string,
  counting: ReturnType<typeof countingDynamoClient>,
  shape: { devices: number; batchSize: number; invocations: number },
): Promise<DeliveryMeasurement> {
  const store = createStore(tableName, new DynamoDBClient({}));
  const { bucket } = await createBucket(store, { name: `bench-delivery-${shape.devices}` });
  await seedDevices(store, bucket.id, shape.devices);
  const { createDeliveryHandler } = await import('../../lambdas/delivery');
  const gateway = new LatencyGateway(options.snsLatencyMs);
  const delivery = createDeliveryHandler({ gateway });
  const deliveryCounting = createDeliveryHandler({ gateway, store: createStore(tableName, counting.client) });
  const batch = () =>
    sqsEvent(Array.from({ length: shape.batchSize }, (_, i) => stampNotification(validateNotification({ title: `Login failed: user ${i}`, body: 'Three failed password attempts' }), bucket.id, 'authentik')));
  const invoke = async (handler: typeof delivery, event: SQSEvent) => {
    const response = await handler(event, lambdaContext('herald-delivery', 900_000));
    if (response && response.batchItemFailures.length > 0) throw new Error(`delivery failed ${response.batchItemFailures.length} record(s)`);
  };
  await invoke(delivery, batch());
  const events = Array.from({ length: shape.invocations }, batch);
  global.gc?.();
  const logsBefore = stdoutBytes;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (const event of events) await invoke(delivery, event);
  const wallMs = (performance.now() - wallStart) / events.length;
  const cpuMs = cpuMsSince(cpuStart) / events.length;
  const logBytes = (stdoutBytes - logsBefore) / events.length;
  counting.counts.reset();
  await invoke(deliveryCounting, batch());
  process.stderr.write(`  delivery ${shape.devices} device(s) × ${shape.batchSize}: ${wallMs.toFixed(1)} ms per invocation\n`);
  return {
    devices: shape.devices,
    batchSize: shape.batchSize,
    invocations: events.length,
    wallMs,
    cpuMs,
    logBytes,
    snsLatencyMs: options.snsLatencyMs,
    concurrency: Number(process.env.DELIVERY_CONCURRENCY ?? 16),
    dynamo: perNotification(counting.counts, shape.batchSize),
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? '{}') as WorkerOptions;
  const tableName = process.env.TABLE_NAME!;
  await ensureTable(new DynamoDBClient({}), tableName);
  const counting = countingDynamoClient(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
  const ingest = await measureIngest(options, tableName, counting);
  const deliverySingle = await measureDelivery(options, tableName, counting, { devices: 1, batchSize: 10, invocations: 20 });
  const deliveryBucket = await measureDelivery(options, tableName, counting, { devices: 1000, batchSize: 1, invocations: 2 });
  const result: HandlerMeasurements = { ingest, deliverySingle, deliveryBucket };
  process.send!(result, () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`handlers worker failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
