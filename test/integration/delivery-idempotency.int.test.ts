import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { deliverNotification, RetryableDeliveryError, type DeliveryDeps } from '../../lambdas/core/delivery';
import { stampNotification, validateNotification, type Notification } from '../../lambdas/core/notification';
import { PushError, type PublishInput, type PushGateway } from '../../lambdas/core/push/gateway';
import { claimDelivery, listOutcomes } from '../../lambdas/core/store/outcomes';
import { createHarness, type Harness } from './harness';

/**
 * At most one push per (notification, device): concurrent duplicates, a handler that died after
 * publishing, an answer lost after the request was sent, SNS throttling, and pages of a big bucket.
 */
class CountingGateway implements PushGateway {
  readonly publishes = new Map<string, number>();
  fail?: (input: PublishInput, attempt: number) => Error | undefined;
  private calls = 0;
  constructor(private readonly delayMs = 0) {}
  async ensureEndpoint(): Promise<string> {
    throw new Error('not used');
  }
  async deleteEndpoint(): Promise<void> {}
  async publish(input: PublishInput): Promise<string> {
    this.calls += 1;
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const failure = this.fail?.(input, this.calls);
    if (failure) throw failure;
    this.publishes.set(input.TargetArn, (this.publishes.get(input.TargetArn) ?? 0) + 1);
    return `m-${this.calls}`;
  }
  get total(): number {
    return [...this.publishes.values()].reduce((sum, count) => sum + count, 0);
  }
}

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness();
});

/** Writes `count` enabled Android devices for a new bucket, 25 per BatchWriteItem. */
async function bucketWithDevices(count: number): Promise<string> {
  const bucketId = randomUUID();
  const now = new Date().toISOString();
  for (let start = 0; start < count; start += 25) {
    const items = Array.from({ length: Math.min(25, count - start) }, (_, i) => {
      const id = `device-${String(start + i).padStart(6, '0')}`;
      return {
        PutRequest: {
          Item: { pk: `BUCKET#${bucketId}`, sk: `DEVICE#${id}`, kind: 'device', bucketId, id, platform: 'android', enabled: true, endpointArn: `arn:aws:sns:us-east-1:1:endpoint/GCM/herald/${id}`, createdAt: now, updatedAt: now },
        },
      };
    });
    await harness.store.doc.send(new BatchWriteCommand({ RequestItems: { [harness.tableName]: items } }));
  }
  return bucketId;
}

const notificationFor = (bucketId: string): Notification => stampNotification(validateNotification({ title: 'Failed login' }), bucketId, 'native');
const deps = (gateway: PushGateway, overrides: Partial<DeliveryDeps> = {}): DeliveryDeps => ({ store: harness.store, gateway, sleep: async () => {}, ...overrides });

describe('delivery idempotency', () => {
  test('two concurrent deliveries of one notification publish to each device once', async () => {
    const bucketId = await bucketWithDevices(40);
    const gateway = new CountingGateway(5);
    const notification = notificationFor(bucketId);
    const results = await Promise.allSettled([deliverNotification(deps(gateway), notification), deliverNotification(deps(gateway), notification)]);
    // One of them may have to come back later for devices the other still held.
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(RetryableDeliveryError);
    expect(gateway.publishes.size).toBe(40);
    expect(gateway.total).toBe(40);
  });

  test('a handler that died after claiming is not re-sent until its claim is stale, then counted as unknown', async () => {
    // GIVEN an attempt claimed a device and died (no outcome recorded)
    const bucketId = await bucketWithDevices(2);
    const notification = notificationFor(bucketId);
    const claimedAt = new Date('2026-01-01T00:00:00Z');
    await claimDelivery(harness.store, notification.id, 'device-000000', claimedAt, 90_000);
    const gateway = new CountingGateway();
    // WHEN the message is retried while the claim is fresh
    const early = await deliverNotification(deps(gateway, { now: () => new Date(claimedAt.getTime() + 10_000) }), notification).catch((error: RetryableDeliveryError) => error.report);
    // THEN the other device is served and the claimed one waits
    expect(early.retry.map((retry) => retry.reason)).toEqual(['in_flight_elsewhere']);
    expect(gateway.total).toBe(1);
    // WHEN it is retried after the claim went stale
    const late = await deliverNotification(deps(gateway, { now: () => new Date(claimedAt.getTime() + 120_000) }), notification);
    // THEN the unknown device is published again, counted, and nobody else is
    expect(late.unknownRetried).toBe(1);
    expect(late.alreadyDone).toBe(1);
    expect(gateway.total).toBe(2);
  });

  test('a timeout after the request was sent keeps the claim, so the retry counts it as unknown', async () => {
    const bucketId = await bucketWithDevices(1);
    const notification = notificationFor(bucketId);
    const gateway = new CountingGateway();
    gateway.fail = (_input, attempt) => (attempt === 1 ? new PushError('retryable', 'TimeoutError', true) : undefined);
    const start = Date.now();
    await expect(deliverNotification(deps(gateway, { now: () => new Date(start) }), notification)).rejects.toBeInstanceOf(RetryableDeliveryError);
    const retried = await deliverNotification(deps(gateway, { now: () => new Date(start + 120_000) }), notification);
    expect(retried.unknownRetried).toBe(1);
    expect(gateway.total).toBe(1);
  });

  test('a claim put whose answer was lost and that the SDK retried is still this attempt\'s own claim', async () => {
    // The SDK's retry of a put that did reach DynamoDB meets the item it wrote itself.
    let first = true;
    const lossy = { ...harness.store, doc: { send: async (command: never) => {
      if (first) { first = false; await harness.store.doc.send(command); }
      return harness.store.doc.send(command);
    } } } as unknown as typeof harness.store;
    expect(await claimDelivery(lossy, randomUUID(), 'device-1', new Date(), 90_000)).toEqual({ kind: 'claimed' });
  });

  test('a refusal before sending releases the claim: the retry is an ordinary publish', async () => {
    const bucketId = await bucketWithDevices(1);
    const notification = notificationFor(bucketId);
    const gateway = new CountingGateway();
    gateway.fail = (_input, attempt) => (attempt <= 3 ? new PushError('retryable', 'ThrottledException') : undefined);
    await expect(deliverNotification(deps(gateway), notification)).rejects.toBeInstanceOf(RetryableDeliveryError);
    const retried = await deliverNotification(deps(gateway), notification);
    expect(retried.unknownRetried).toBe(0);
    expect(gateway.total).toBe(1);
  });

  test('a redelivered message reads the page\'s outcomes once and claims only the devices not yet done', async () => {
    // GIVEN a page of 30 devices, 20 of them finished by the first attempt
    const bucketId = await bucketWithDevices(30);
    const notification = notificationFor(bucketId);
    const gateway = new CountingGateway();
    gateway.fail = (input) => (Number(input.TargetArn.slice(-2)) >= 20 && gateway.total < 20 + 10 ? new PushError('retryable', 'InternalErrorException') : undefined);
    await expect(deliverNotification(deps(gateway, { concurrency: 1 }), notification)).rejects.toBeInstanceOf(RetryableDeliveryError);
    expect(gateway.total).toBe(20);
    // WHEN SQS redelivers it
    const commands: string[] = [];
    const counted = { ...harness.store, doc: { send: (command: { constructor: { name: string } }) => (commands.push(command.constructor.name), harness.store.doc.send(command as never)) } } as unknown as typeof harness.store;
    gateway.fail = undefined;
    const retried = await deliverNotification(deps(gateway, { store: counted }), notification, undefined, true);
    // THEN the finished 20 cost one query, and only the other 10 are claimed and published
    expect(retried).toMatchObject({ alreadyDone: 20, unknownRetried: 0 });
    expect(retried.outcomes).toHaveLength(10);
    expect(gateway.total).toBe(30);
    expect(commands.filter((name) => name === 'QueryCommand')).toHaveLength(2); // the device page and its outcomes
    expect(commands.filter((name) => name === 'PutCommand')).toHaveLength(20); // 10 claims, 10 outcomes
  });

  test('SNS throttling is retried with backoff within the attempt', async () => {
    const bucketId = await bucketWithDevices(3);
    const gateway = new CountingGateway();
    const waits: number[] = [];
    gateway.fail = (_input, attempt) => (attempt <= 2 ? new PushError('retryable', 'ThrottledException') : undefined);
    const report = await deliverNotification(deps(gateway, { sleep: async (ms) => void waits.push(ms), concurrency: 1 }), notificationFor(bucketId));
    expect(report.outcomes.map((outcome) => outcome.status)).toEqual(['sent', 'sent', 'sent']);
    expect(waits).toHaveLength(2);
    expect(gateway.total).toBe(3);
  });

  test('a large bucket continues page by page, each device published once', async () => {
    const bucketId = await bucketWithDevices(2_500);
    const notification = notificationFor(bucketId);
    const gateway = new CountingGateway();
    const continuations: string[] = [];
    const pageDeps = deps(gateway, { pageSize: 1000, concurrency: 32, continueWith: async (_n, cursor) => void continuations.push(cursor) });
    const first = await deliverNotification(pageDeps, notification);
    expect(first.outcomes).toHaveLength(1000);
    expect(continuations).toHaveLength(1);
    // The continuation message is handled like any job, by another invocation.
    await deliverNotification(pageDeps, notification, continuations[0]);
    await deliverNotification(pageDeps, notification, continuations[1]);
    expect(continuations).toHaveLength(2);
    expect(gateway.publishes.size).toBe(2_500);
    expect(gateway.total).toBe(2_500);
    expect((await listOutcomes(harness.store, notification.id)).size).toBe(2_500);
  });
});
