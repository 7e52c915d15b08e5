/**
 * Runs in a child process forked by handlers.bench.ts: the real ingest and delivery handlers, as
 * deployed (logger at INFO, EMF metrics on, both written to stdout), with their own DynamoDB and SNS
 * clients: against dynalite in a third process, and an SNS stand-in in the parent that answers each
 * Publish after the injected latency. Only the SQS queue is a stub inside this process.
 * Reports CPU, wall time, log bytes and DynamoDB calls per notification to the parent over IPC.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { uuidv7 } from '../../lambdas/core/ids';
import type { Notification } from '../../lambdas/core/notification';
import type { DeliveryJob } from '../../lambdas/core/queue';
import { buildPublishInput } from '../../lambdas/core/push/publish-request';
import { SnsPushGateway } from '../../lambdas/core/push/sns-gateway';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createStore, type Store } from '../../lambdas/core/store/table';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { ensureTable } from '../../lambdas/local/stand-ins';
import { countingDynamoClient, type DynamoCounts } from './dynalite-process';
import { benchDevice, LatencyQueue, seedDevices } from './devices';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** What the worker measured, sent to the parent. */
export interface HandlerMeasurements {
  readonly ingest: IngestMeasurement[];
  /** One per payload, on the notifications its ingest queued: SQS batches of 10, one device each. */
  readonly deliverySingle: DeliveryMeasurement[];
  /** One authentik notification to a bucket of 1,000 devices. */
  readonly deliveryBucket: DeliveryMeasurement;
  /** CPU of single SDK calls made bare (DocumentClient; SnsPushGateway), per call, ms. */
  readonly sdkCallCpuMs: SdkCallCpu;
}

export interface SdkCallCpu {
  readonly getItem: number;
  readonly conditionalPutItem: number;
  /** One Publish through Herald's SnsPushGateway and the SDK's SNS client. */
  readonly snsPublish: number;
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
  readonly payload: string;
  readonly devices: number;
  /** Notifications per SQS batch handed to the handler. */
  readonly batchSize: number;
  /** Notifications delivered while measuring. */
  readonly notifications: number;
  /** SQS messages consumed: the notifications, and the continuations large buckets queue. */
  readonly messages: number;
  /** Each invocation's wall time and CPU, ms (continuations run as invocations of their own). */
  readonly invocations: { readonly wallMs: number; readonly cpuMs: number }[];
  /** Bytes logged over all the invocations. */
  readonly logBytes: number;
  readonly snsLatencyMs: number;
  readonly concurrency: number;
  /** Per notification. */
  readonly dynamo: DynamoPerNotification;
}

export interface DynamoPerNotification {
  /** By call and item kind (`Query NOTIF/DEVICE`): calls and units per notification. */
  readonly calls: Record<string, { calls: number; units: number }>;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface WorkerOptions {
  readonly requests: number;
  readonly warmUp: number;
  readonly sqsLatencyMs: number;
  readonly snsLatencyMs: number;
  readonly wallRequests: number;
  readonly deliveryBatches: number;
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

const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

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
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
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
  const native = JSON.stringify({
    title: 'Login failed: jdoe',
    subtitle: 'authentik',
    body: 'Three failed password attempts from 203.0.113.7 (Lisbon, PT)',
    tapUrl: 'https://auth.example.com/if/admin/#/events/log',
    tags: 'security,login',
  });
  // authentik's dedupe key hashes the event's text: vary its request id (same length) per event.
  const requestId = '4f1c9b2e8d6a4c0b9e7f3a21d5c8b690';
  if (!authentik.includes(requestId) || !zitadel.includes('"sequence":15')) throw new Error('bench fixtures changed: update the per-event variation');
  return [
    {
      name: 'authentik',
      body: Buffer.from(authentik),
      event: (index) =>
        httpEvent(
          'POST', '/transform', { parser: 'ZENTIK_AUTHENTIK', token },
          { 'content-type': 'application/json', 'user-agent': 'authentik@2025.10.1' },
          authentik.replace(requestId, createHash('md5').update(String(index)).digest('hex')),
        ),
    },
    {
      name: 'ZITADEL',
      body: Buffer.from(zitadel),
      // A magic code; the bucket has no ZITADEL signing key, so the signature header is not checked.
      event: (index) =>
        httpEvent(
          'POST', '/webhooks/zitadel', { magicCode },
          { 'content-type': 'application/json', 'user-agent': 'Go-http-client/2.0' },
          zitadel.replace('"sequence":15', `"sequence":${1000 + index}`),
        ),
    },
    {
      name: 'native',
      body: Buffer.from(native),
      event: (index) =>
        httpEvent('POST', '/message', {}, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, native.replace('(Lisbon, PT)', `(Lisbon, PT) #${index}`)),
    },
  ];
}

type IngestHandler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<{ statusCode?: number; body?: string }>;

/** Each request must be answered 2xx and queue exactly one notification. */
async function runIngest(handler: IngestHandler, queue: LatencyQueue, events: readonly APIGatewayProxyEventV2[]): Promise<void> {
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
    calls: Object.fromEntries(Object.entries(counts.calls).map(([name, c]) => [name, { calls: c.calls / notifications, units: c.units / notifications }])),
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

function sqsEvent(jobs: readonly DeliveryJob[]): SQSEvent {
  return {
    Records: jobs.map((job) => {
      const body = JSON.stringify(job);
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

class Worker {
  private readonly store: Store;
  private readonly counting: ReturnType<typeof countingDynamoClient>;
  /** The same table through a client that counts calls and capacity: for counting passes only. */
  private readonly countingStore: Store;

  constructor(
    private readonly options: WorkerOptions,
    private readonly tableName: string,
  ) {
    this.store = createStore(tableName, new DynamoDBClient({}));
    this.counting = countingDynamoClient(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
    this.countingStore = createStore(tableName, this.counting.client);
  }

  async run(): Promise<HandlerMeasurements> {
    await ensureTable(new DynamoDBClient({}), this.tableName);
    // Loaded after the environment is set, as Lambda loads a handler into a configured runtime.
    const { createIngestHandler } = await import('../../lambdas/ingest');
    // The handlers' own clients (TABLE_NAME and the SDK's endpoint variables); only SQS is a stub.
    const { bucket, token, magicCode } = await createBucket(this.store, { name: 'bench-ingest' });
    await seedDevices(this.store, bucket.id, 1);
    const ingest: IngestMeasurement[] = [];
    const deliverySingle: DeliveryMeasurement[] = [];
    let authentikNotification: Notification | undefined;
    for (const payload of payloads(token, magicCode)) {
      const queue = new LatencyQueue(0);
      const slowQueue = new LatencyQueue(this.options.sqsLatencyMs);
      const handlers = {
        fast: createIngestHandler({ queue }),
        slow: createIngestHandler({ queue: slowQueue }),
        counting: createIngestHandler({ queue, store: this.countingStore }),
      };
      ingest.push(await this.measureIngest(payload, queue, slowQueue, handlers));
      const queued = queue.recent.map((job) => job.notification);
      authentikNotification ??= queued[0];
      deliverySingle.push(await this.measureDelivery(payload.name, 1, 10, this.options.deliveryBatches, (i) => queued[i % queued.length]!));
    }

    const { bucket: large } = await createBucket(this.store, { name: 'bench-delivery-1000' });
    await seedDevices(this.store, large.id, 1000);
    const deliveryBucket = await this.measureDelivery('authentik', 1000, 1, 2, () => ({
      ...authentikNotification!,
      id: uuidv7(),
      bucketId: large.id,
    }));
    return { ingest, deliverySingle, deliveryBucket, sdkCallCpuMs: await this.measureSdkCalls(authentikNotification!) };
  }

  private async measureIngest(
    payload: Payload,
    queue: LatencyQueue,
    slowQueue: LatencyQueue,
    handlers: { fast: IngestHandler; slow: IngestHandler; counting: IngestHandler },
  ): Promise<IngestMeasurement> {
    let index = 0;
    const events = (count: number) => Array.from({ length: count }, () => payload.event(index++));
    await runIngest(handlers.fast, queue, events(this.options.warmUp));

    const measured = events(this.options.requests);
    const bodies = measured.map((event) => event.body!);
    collectGarbage();
    const logsBefore = stdoutBytes;
    const cpuStart = process.cpuUsage();
    await runIngest(handlers.fast, queue, measured);
    const cpuMs = cpuMsSince(cpuStart) / measured.length;
    const logBytes = (stdoutBytes - logsBefore) / measured.length;

    floorCpuMs(bodies.slice(0, this.options.warmUp));
    const floor = floorCpuMs(bodies);

    const slow = events(this.options.wallRequests);
    await runIngest(handlers.slow, slowQueue, slow.slice(0, 10));
    const wallStart = performance.now();
    await runIngest(handlers.slow, slowQueue, slow.slice(10));
    const wallMs = (performance.now() - wallStart) / (slow.length - 10);

    const counted = events(21);
    await runIngest(handlers.counting, queue, counted.slice(0, 1));
    this.counting.counts.reset();
    await runIngest(handlers.counting, queue, counted.slice(1));
    process.stderr.write(`  ingest ${payload.name}: ${(cpuMs * 1000).toFixed(0)} µs CPU/request (floor ${(floor * 1000).toFixed(1)} µs)\n`);
    return {
      payload: payload.name,
      bodyBytes: payload.body.length,
      requests: measured.length,
      cpuMs,
      floorCpuMs: floor,
      wallMs,
      sqsLatencyMs: this.options.sqsLatencyMs,
      logBytes,
      dynamo: perNotification(this.counting.counts, counted.length - 1),
    };
  }

  private async measureDelivery(
    payload: string,
    devices: number,
    batchSize: number,
    batches: number,
    notification: (index: number) => Notification,
  ): Promise<DeliveryMeasurement> {
    const { createDeliveryHandler } = await import('../../lambdas/delivery');
    // A bucket larger than a page continues in messages on the queue: collected here, then
    // delivered as the invocations SQS would trigger for them.
    const continuations: DeliveryJob[] = [];
    const continueWith = async (next: Notification, cursor: string) => void continuations.push({ notification: next, cursor });
    const delivery = createDeliveryHandler({ continueWith });
    const deliveryCounting = createDeliveryHandler({ continueWith, store: this.countingStore });
    let index = 0;
    const batch = () => sqsEvent(Array.from({ length: batchSize }, () => ({ notification: notification(index++) })));
    let messages = 0;
    const invocations: { wallMs: number; cpuMs: number }[] = [];
    const deliver = async (handler: SqsHandler, first: SQSEvent) => {
      const events = [first];
      for (let event = events.shift(); event; event = events.shift()) {
        messages += event.Records.length;
        const cpuStart = process.cpuUsage();
        const wallStart = performance.now();
        const response = await handler(event, lambdaContext('herald-delivery', 900_000));
        invocations.push({ wallMs: performance.now() - wallStart, cpuMs: cpuMsSince(cpuStart) });
        if (response && response.batchItemFailures.length > 0) throw new Error(`delivery failed ${response.batchItemFailures.length} record(s)`);
        for (let i = 0; i < continuations.length; i += 10) events.push(sqsEvent(continuations.slice(i, i + 10)));
        continuations.length = 0;
      }
    };
    await deliver(delivery, batch());
    const events = Array.from({ length: batches }, batch);
    messages = 0;
    invocations.length = 0;
    collectGarbage();
    const logsBefore = stdoutBytes;
    for (const event of events) await deliver(delivery, event);
    const logBytes = stdoutBytes - logsBefore;
    const measured = { messages, invocations: [...invocations] };
    this.counting.counts.reset();
    await deliver(deliveryCounting, batch());
    const wallMs = measured.invocations.reduce((sum, i) => sum + i.wallMs, 0) / events.length;
    process.stderr.write(`  delivery ${payload}, ${devices} device(s), ${batchSize} a batch: ${wallMs.toFixed(1)} ms per batch (${measured.invocations.length / events.length} invocation(s))\n`);
    return {
      payload,
      devices,
      batchSize,
      notifications: events.length * batchSize,
      messages: measured.messages,
      invocations: measured.invocations,
      logBytes,
      snsLatencyMs: this.options.snsLatencyMs,
      concurrency: Number(process.env.DELIVERY_CONCURRENCY ?? 16),
      dynamo: perNotification(this.counting.counts, batchSize),
    };
  }

  /** CPU of one GetItem, one conditional PutItem and one SNS Publish, each with nothing around it. */
  private async measureSdkCalls(notification: Notification): Promise<SdkCallCpu> {
    const { GetCommand, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const table = this.tableName;
    const sns = new SnsPushGateway(new SNSClient({ endpoint: process.env.BENCH_SNS_ENDPOINT_WITHOUT_LATENCY }));
    const device = benchDevice(notification.bucketId, 0);
    const { input } = buildPublishInput(notification, { platform: device.platform, environment: device.environment, endpointArn: device.endpointArn! });
    const time = async (call: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < 200; i += 1) await call(i);
      const count = 1000;
      const start = process.cpuUsage();
      for (let i = 200; i < 200 + count; i += 1) await call(i);
      return cpuMsSince(start) / count;
    };
    return {
      getItem: await time((i) => this.store.doc.send(new GetCommand({ TableName: table, Key: { pk: `TOKEN#bench-${i}`, sk: 'META' } }))),
      conditionalPutItem: await time((i) =>
        this.store.doc.send(
          new PutCommand({ TableName: table, Item: { pk: `DEDUPE#bench#${i}`, sk: 'META', notificationId: randomUUID(), expiresAt: 1 }, ConditionExpression: 'attribute_not_exists(pk)' }),
        ),
      ),
      snsPublish: await time(() => sns.publish(input)),
    };
  }
}

type SqsHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] } | void>;

new Worker(JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? '{}') as WorkerOptions, process.env.TABLE_NAME!)
  .run()
  .then((result) => process.send!(result, () => process.exit(0)))
  .catch((error: unknown) => {
    process.stderr.write(`handlers worker failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
