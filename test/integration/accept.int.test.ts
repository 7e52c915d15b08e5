import { acceptNotifications } from '../../lambdas/core/accept';
import { HeraldError } from '../../lambdas/core/errors';
import { EnqueueError, type DeliveryJob, type NotificationQueue } from '../../lambdas/core/queue';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createHarness, type Harness } from './harness';

/** A queue (Herald's own interface) that takes the first `accept` jobs of a call, then fails. */
class FailingQueue implements NotificationQueue {
  readonly queued: DeliveryJob[] = [];
  constructor(private readonly accept: number) {}
  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    const taken = jobs.slice(0, this.accept);
    this.queued.push(...taken);
    if (taken.length < jobs.length) throw new EnqueueError('queue down', new Set(taken.map((job) => job.notification.id)));
  }
}

describe('acceptNotifications when the queue fails partway', () => {
  let harness: Harness;
  let bucketId: string;

  beforeAll(async () => {
    harness = await createHarness();
    bucketId = (await createBucket(harness.store, { name: 'partial' })).bucket.id;
  });

  const batch = [
    { content: { title: 'first' }, dedupeKey: 'okta:event-1' },
    { content: { title: 'second' }, dedupeKey: 'okta:event-2' },
  ];

  test('answers 503, and the sender\'s retry queues only what was not queued', async () => {
    // GIVEN a queue that takes the first notification and then fails
    const failing = new FailingQueue(1);
    await expect(acceptNotifications({ store: harness.store, queue: failing }, bucketId, 'okta', batch)).rejects.toMatchObject(
      new HeraldError('service_unavailable', 'the notification could not be queued; retry later'),
    );
    expect(failing.queued.map((job) => job.notification.title)).toEqual(['first']);
    // WHEN the sender retries the same batch and the queue works again
    const working = new FailingQueue(10);
    const retried = await acceptNotifications({ store: harness.store, queue: working }, bucketId, 'okta', batch);
    // THEN the first is recognised as a replay and only the second is queued
    expect(retried.queued.map((notification) => notification.title)).toEqual(['second']);
    expect(retried.duplicates).toEqual([failing.queued[0]!.notification.id]);
  });
});

describe('routine events', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness();
  });

  const batch = [
    { content: { title: 'Login failed: jdoe' }, dedupeKey: 'auth0:a' },
    { content: { title: 'Logout: jdoe' }, dedupeKey: 'auth0:b', routine: true },
  ];

  test('are dropped for a bucket that did not opt in', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'no-routine' });
    const queue = new FailingQueue(10);
    const accepted = await acceptNotifications({ store: harness.store, queue }, bucket.id, 'auth0', batch);
    expect(queue.queued.map((job) => job.notification.title)).toEqual(['Login failed: jdoe']);
    expect(accepted.routineDropped).toBe(1);
  });

  test('are queued for a bucket that opted in to that source', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'with-routine', routineSources: ['auth0'] });
    const queue = new FailingQueue(10);
    await acceptNotifications({ store: harness.store, queue }, bucket.id, 'auth0', batch);
    expect(queue.queued.map((job) => job.notification.title)).toEqual(['Login failed: jdoe', 'Logout: jdoe']);
  });

  test('of another source are still dropped', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'okta-routine', routineSources: ['okta'] });
    const queue = new FailingQueue(10);
    await acceptNotifications({ store: harness.store, queue }, bucket.id, 'auth0', batch);
    expect(queue.queued).toHaveLength(1);
  });
});

describe('dedupe claims under lost answers', () => {
  test('a put retried after its answer was lost is still our own claim, not a replay', async () => {
    const harness = await createHarness();
    const { claimDedupeKey } = await import('../../lambdas/core/store/dedupe');
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'notification-1')).toBeUndefined();
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'notification-1')).toBeUndefined();
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'notification-2')).toBe('notification-1');
  });

  test('a release removes only our own claim', async () => {
    const harness = await createHarness();
    const { claimDedupeKey, releaseDedupeKey } = await import('../../lambdas/core/store/dedupe');
    await claimDedupeKey(harness.store, 'b', 'k', 'first');
    await releaseDedupeKey(harness.store, 'b', 'k', 'second');
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'third')).toBe('first');
  });

  test('job bodies reach SQS as ASCII, characters outside the BMP included', async () => {
    const { messageBody, parseDeliveryJob } = await import('../../lambdas/core/queue');
    const job = { notification: { id: 'n', bucketId: 'b', title: 'Disk full 😀 — café', source: 'native', createdAt: '', deliveryType: 'NORMAL' as const } };
    const body = messageBody(job);
    expect(/^[\x20-\x7e]*$/.test(body)).toBe(true);
    expect(parseDeliveryJob(body)).toEqual(job);
  });
});
