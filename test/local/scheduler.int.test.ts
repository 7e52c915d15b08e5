import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { uuidv7 } from '../../lambdas/core/ids';
import { parseQueuedJob } from '../../lambdas/core/queue';
import { createBucket } from '../../lambdas/core/store/buckets';
import { putScheduled } from '../../lambdas/core/store/scheduled';
import { LocalNotificationScheduler } from '../../lambdas/local/local-scheduler';
import { createHarness, type Harness } from '../integration/harness';

/**
 * Local mode's stand-in for EventBridge Scheduler, on fauxqs with real timers: a schedule sends its
 * job to the queue when due (not before), a cancelled one never does, and pending records in the
 * table are armed again after a restart.
 */
let harness: Harness;
let scheduler: LocalNotificationScheduler;

beforeEach(async () => {
  harness = await createHarness();
  scheduler = new LocalNotificationScheduler(harness.sqs, harness.queues.queueUrl);
});

afterEach(() => scheduler.stop());

/** Receives for `ms`, noting when each message arrived. */
async function receiveFor(ms: number): Promise<{ at: number; body: string }[]> {
  const received: { at: number; body: string }[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const { Messages = [] } = await harness.sqs.send(new ReceiveMessageCommand({ QueueUrl: harness.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    for (const message of Messages) received.push({ at: Date.now(), body: message.Body! });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return received;
}

test('a schedule queues its job when due, not before, and once even if created twice', async () => {
  const dueAt = new Date(Date.now() + 1500);
  await scheduler.schedule({ name: 'herald-a', dueAt, job: '{"kind":"scheduled","notification":{"id":"a","bucketId":"b"}}' });
  await scheduler.schedule({ name: 'herald-a', dueAt, job: '{"kind":"scheduled","notification":{"id":"a","bucketId":"b"}}' });
  const received = await receiveFor(3500);
  expect(received.map((message) => message.body)).toEqual(['{"kind":"scheduled","notification":{"id":"a","bucketId":"b"}}']);
  expect(received[0]!.at).toBeGreaterThanOrEqual(dueAt.getTime());
  expect(scheduler.size).toBe(0);
});

test('a cancelled schedule never queues its job', async () => {
  await scheduler.schedule({ name: 'herald-b', dueAt: new Date(Date.now() + 1000), job: '{}' });
  await scheduler.cancel('herald-b');
  await scheduler.cancel('herald-b'); // gone already: fine, as Scheduler's ResourceNotFound
  expect(await receiveFor(2500)).toEqual([]);
});

test('after a restart, pending scheduled records are armed again and fire when due', async () => {
  // GIVEN a pending Scheduler-held notification in the table (as a previous run left it)
  const { bucket } = await createBucket(harness.store, { name: 'rearm' });
  const id = uuidv7();
  const dueAt = new Date(Date.now() + 1500).toISOString();
  const notification = { id, bucketId: bucket.id, source: 'native', createdAt: new Date().toISOString(), title: 'Persisted', deliveryType: 'NORMAL' as const, scheduledSendAt: dueAt };
  await putScheduled(harness.store, { notification, dueAt, mechanism: 'scheduler', scheduleName: `herald-${id}` });
  // AND one sent by SQS delay, which the queue itself holds
  await putScheduled(harness.store, { notification: { ...notification, id: uuidv7() }, dueAt, mechanism: 'sqs-delay' });
  // WHEN a fresh scheduler re-arms from the table
  expect(await scheduler.rearm(harness.store)).toBe(1);
  // THEN the scheduler's one fires at its due time with the reference delivery reads
  const received = await receiveFor(3500);
  expect(received.map((message) => parseQueuedJob(message.body))).toEqual([{ kind: 'scheduled', notification: { id, bucketId: bucket.id } }]);
  expect(received[0]!.at).toBeGreaterThanOrEqual(Date.parse(dueAt));
});
