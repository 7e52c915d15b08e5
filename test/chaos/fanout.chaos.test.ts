import { createHash } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeliveryHandler } from '../../lambdas/delivery';
import { stampNotification, validateNotification } from '../../lambdas/core/notification';
import type { PublishInput, PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue } from '../../lambdas/core/queue';
import { createBucket } from '../../lambdas/core/store/buckets';
import { putDevice, type Device } from '../../lambdas/core/store/devices';
import type { Store } from '../../lambdas/core/store/table';
import { SqsEventSource } from '../../lambdas/local/sqs-event-source';
import { createHarness, type Harness } from '../integration/harness';
import { seconds, table } from './support';

/**
 * Fan-out: one notification to a bucket of DEVICES devices (written to dynalite with
 * BatchWriteItem, shaped exactly as `putDevice` writes them), delivered by the real delivery
 * handler in pages of PAGE_SIZE devices: each page queues the next as a continuation message on
 * fauxqs before publishing, and the local SQS event source runs the pages in parallel, as Lambda's
 * event source mapping would. SNS is a fake with LATENCY_MS per publish.
 */
const DEVICES = Number(process.env.FANOUT_DEVICES ?? 100_000);
const PAGE_SIZE = 1000;
const CONCURRENCY = 16;
const LATENCY_MS = Number(process.env.FANOUT_LATENCY_MS ?? 3);
/** Concurrent invocations (execution environments) of the delivery function. */
const ENVIRONMENTS = Number(process.env.FANOUT_ENVIRONMENTS ?? 4);
const BATCH_WRITE_LIMIT = 25;

jest.setTimeout(15 * 60_000);

/** The items `putDevice` writes for a device, captured from the real function. */
async function itemsOf(device: Device): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const capture = {
    tableName: 'capture',
    doc: { send: async (command: { input: { Item?: Record<string, unknown> } }) => (command.input.Item && items.push(command.input.Item), {}) },
  } as unknown as Store;
  await putDevice(capture, device);
  return items;
}

function deviceNumber(bucketId: string, index: number, now: string): Device {
  const id = createHash('sha256').update(`ios:production:fanout-${index}`).digest('hex').slice(0, 32);
  return {
    bucketId,
    id,
    platform: index % 2 === 0 ? 'ios' : 'android',
    ...(index % 2 === 0 ? { environment: 'production' as const } : {}),
    name: `device ${index}`,
    endpointArn: `arn:aws:sns:us-east-1:123456789012:endpoint/${index % 2 === 0 ? 'APNS/herald-apns' : 'GCM/herald-fcm'}/${index}`,
    tokenKey: id,
    enabled: true,
    createdAt: now,
    updatedAt: now,
  };
}

/** BatchWriteItem, 25 items a call, `parallel` calls in flight, unprocessed items written again. */
async function batchWrite(store: Store, items: readonly Record<string, unknown>[], parallel = 8): Promise<number> {
  let next = 0;
  let calls = 0;
  const writer = async () => {
    while (next < items.length) {
      const chunk = items.slice(next, next + BATCH_WRITE_LIMIT);
      next += BATCH_WRITE_LIMIT;
      let requests: unknown[] | undefined = chunk.map((Item) => ({ PutRequest: { Item } }));
      while (requests && requests.length > 0) {
        calls += 1;
        const result: BatchWriteCommandOutput = await store.doc.send(new BatchWriteCommand({ RequestItems: { [store.tableName]: requests as never } }));
        requests = result.UnprocessedItems?.[store.tableName];
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, writer));
  return calls;
}

/** SNS with a fixed latency per publish, counting publishes per endpoint. */
class LatencyGateway implements PushGateway {
  readonly publishes = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;

  async ensureEndpoint(): Promise<string> {
    throw new Error('unused');
  }

  async publish(input: PublishInput): Promise<string> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
    this.inFlight -= 1;
    this.publishes.set(input.TargetArn, (this.publishes.get(input.TargetArn) ?? 0) + 1);
    return `sns-${this.publishes.size}`;
  }

  async deleteEndpoint(): Promise<void> {
    throw new Error('unused');
  }
}

describe(`fan-out: one notification to ${DEVICES.toLocaleString('en-US')} devices`, () => {
  let harness: Harness;
  let bucketId: string;
  let seedMs = 0;
  let seedCalls = 0;

  beforeAll(async () => {
    // Pages take seconds: a visibility timeout and claim timeout well above a page's time.
    harness = await createHarness({ visibilityTimeoutSeconds: 60, maxReceiveCount: 5 });
    bucketId = (await createBucket(harness.store, { name: 'fanout' })).bucket.id;
    const started = performance.now();
    const now = new Date().toISOString();
    const items: Record<string, unknown>[] = [];
    for (let index = 0; index < DEVICES; index += 1) items.push(...(await itemsOf(deviceNumber(bucketId, index, now))));
    seedCalls = await batchWrite(harness.store, items);
    seedMs = performance.now() - started;
  });

  test('every device is published exactly once, pages running in parallel', async () => {
    // GIVEN the notification queued as ingest queues it
    const gateway = new LatencyGateway();
    const queue = new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs);
    const notification = stampNotification(validateNotification({ title: 'Fan-out', body: `to ${DEVICES} devices` }), bucketId, 'native');
    const pages: number[] = [];
    const environments: ReturnType<typeof createDeliveryHandler>[] = [];
    const newEnvironment = () => createDeliveryHandler({
      store: harness.store,
      gateway,
      pageSize: PAGE_SIZE,
      concurrency: CONCURRENCY,
      claimTimeoutMs: 120_000,
      continueWith: (continued, cursor) => queue.enqueue([{ notification: continued, cursor }]),
    });
    const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      const environment = environments.pop() ?? newEnvironment();
      const begun = performance.now();
      try {
        return (await environment(event, context)) as SQSBatchResponse;
      } finally {
        pages.push(performance.now() - begun);
        environments.push(environment);
      }
    };
    const eventSource = new SqsEventSource({
      sqs: harness.sqs,
      queueUrl: harness.queues.queueUrl,
      handler,
      batchSize: 1,
      concurrency: ENVIRONMENTS,
      waitTimeSeconds: 1,
      timeoutMs: 900_000,
    });

    // WHEN
    const started = performance.now();
    await queue.enqueue([{ notification }]);
    eventSource.start();
    const drained = await eventSource.drain(14 * 60_000);
    const wallMs = performance.now() - started;

    // THEN
    const counts = [...gateway.publishes.values()];
    const twice = counts.filter((count) => count > 1).length;
    const floorMs = Math.ceil(DEVICES / (CONCURRENCY * ENVIRONMENTS)) * LATENCY_MS;
    const sortedPages = [...pages].sort((a, b) => a - b);
    console.log(table(`fan-out: ${DEVICES.toLocaleString('en-US')} devices, pages of ${PAGE_SIZE}, ${CONCURRENCY} publishes in flight per page, ${ENVIRONMENTS} environments, SNS latency ${LATENCY_MS} ms`, [
      ['devices written (BatchWriteItem calls)', `${DEVICES.toLocaleString('en-US')} (${seedCalls.toLocaleString('en-US')} calls, ${seconds(seedMs)})`],
      ['devices published', gateway.publishes.size],
      ['published more than once', twice],
      ['pages (invocations)', pages.length],
      ['page p50 / max', `${seconds(sortedPages[Math.floor(sortedPages.length / 2)] ?? 0)} / ${seconds(sortedPages.at(-1) ?? 0)}`],
      ['publishes in flight, max', gateway.maxInFlight],
      ['wall time', seconds(wallMs)],
      ['rate', `${Math.round(DEVICES / (wallMs / 1000)).toLocaleString('en-US')} devices/s`],
      ['floor ⌈N/C⌉·L (C = all publishes in flight)', seconds(floorMs)],
    ]));

    expect(drained).toBe(true);
    expect(gateway.publishes.size).toBe(DEVICES);
    expect(twice).toBe(0);
    const { Attributes } = await harness.sqs.send(new GetQueueAttributesCommand({
      QueueUrl: harness.queues.deadLetterQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }));
    expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
  });
});
