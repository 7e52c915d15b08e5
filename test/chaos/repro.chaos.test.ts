import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { createDeliveryHandler } from '../../lambdas/delivery';
import { handleApiRequest } from '../../lambdas/core/api';
import { stampNotification, validateNotification, type Notification } from '../../lambdas/core/notification';
import { PushError, type PublishInput, type PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue } from '../../lambdas/core/queue';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket } from '../../lambdas/core/store/buckets';
import { putDevice } from '../../lambdas/core/store/devices';
import { createStore } from '../../lambdas/core/store/table';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { createHarness, type Harness } from '../integration/harness';
import { faultError, fastRetries } from './faults';
import { takeAll } from './support';

/**
 * The chaos run's findings, each reduced to one deterministic case that asserts the right
 * behaviour, so a regression shows up here without the volume run.
 */
describe('found by the chaos run', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness();
  });

  test('a dedupe claim whose reply was lost (the SDK retries the put) is not answered as a replay of itself', async () => {
    // GIVEN a DynamoDB client whose first try of the Idempotency-Key claim reaches the table and
    // loses its reply, so the SDK retries the conditional put and finds the claim it just wrote
    const dynamo = new DynamoDBClient({ retryStrategy: fastRetries(3) });
    let lost = false;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const pk = (args.input as { Item?: { pk?: { S?: string } } }).Item?.pk?.S ?? '';
        if (context.commandName === 'PutItemCommand' && pk.startsWith('DEDUPE#') && !lost) {
          lost = true;
          throw faultError('lost_reply', 'TimeoutError');
        }
        return result;
      },
      { step: 'deserialize', priority: 'high', name: 'lose-the-first-dedupe-reply' },
    );
    const { bucket, token } = await createBucket(harness.store, { name: 'repro-dedupe' });
    const deps = { store: createStore(harness.tableName, dynamo), queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs), gateway: {} as PushGateway, platformApplications: {}, vault: new FileVault() };
    await takeAll(harness.sqs, harness.queues.queueUrl);

    // WHEN
    const { response } = await handleApiRequest({
      method: 'POST', path: '/message', query: {},
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': 'deploy-42' },
      body: Buffer.from(JSON.stringify({ title: 'Deploy 42 finished' })),
    }, deps);

    // THEN it is accepted and queued once (today: 200 `duplicate: true` with an id never queued)
    expect(lost).toBe(true);
    const queued = (await takeAll(harness.sqs, harness.queues.queueUrl)).map((message) => JSON.parse(message.Body!).notification.bucketId);
    expect({ status: response.status, queued }).toEqual({ status: 201, queued: [bucket.id] });
  });

  // Fails until lambdas/delivery/index.ts makes its Powertools BatchProcessor per invocation: one
  // processor is shared by every invocation of a handler, and local mode's event source runs four
  // batches at once through one handler, so a batch's failure can be reset by the next batch's
  // start and its message deleted (lost). Lambda itself runs one invocation per environment.
  test('one delivery handler invoked for two batches at once reports each batch\'s own failures', async () => {
    // GIVEN a bucket with one device, and a push gateway that refuses notification a1 at once and
    // holds a2 until told
    const { bucket } = await createBucket(harness.store, { name: 'repro-batches' });
    const now = new Date().toISOString();
    await putDevice(harness.store, { bucketId: bucket.id, id: 'device-1', platform: 'ios', environment: 'production', endpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/1', enabled: true, createdAt: now, updatedAt: now });
    const notification = (title: string): Notification => stampNotification(validateNotification({ title }), bucket.id, 'native');
    const [a1, a2, b1] = [notification('a1'), notification('a2'), notification('b1')];
    let releaseA2!: () => void;
    const a2Held = new Promise<void>((resolve) => { releaseA2 = resolve; });
    let a1Refused!: () => void;
    const a1Done = new Promise<void>((resolve) => { a1Refused = resolve; });
    const gateway: PushGateway = {
      ensureEndpoint: () => Promise.reject(new Error('unused')),
      deleteEndpoint: () => Promise.reject(new Error('unused')),
      async publish(input: PublishInput) {
        const id = JSON.parse(JSON.parse(input.Message).APNS).herald.id as string;
        if (id === a1.id) {
          a1Refused();
          throw new PushError('retryable', 'InternalErrorException', false);
        }
        if (id === a2.id) await a2Held;
        return `sns-${id}`;
      },
    };
    // One handler instance, as local mode's event source uses it with 4 concurrent batches
    const handler = createDeliveryHandler({ store: harness.store, gateway, claimTimeoutMs: 60_000 });
    const record = (n: Notification): SQSRecord => ({
      messageId: `message-${n.title}`, receiptHandle: n.id, body: JSON.stringify({ notification: n }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q', awsRegion: 'us-east-1',
    });

    // WHEN batch A (a1 fails, a2 is slow) is followed, while a2 is held, by batch B
    const batchA = handler({ Records: [record(a1), record(a2)] }, lambdaContext('herald-delivery', 60_000)) as Promise<SQSBatchResponse>;
    await a1Done;
    await new Promise((resolve) => setTimeout(resolve, 300)); // a1's failure is recorded
    const batchB = handler({ Records: [record(b1)] }, lambdaContext('herald-delivery', 60_000)) as Promise<SQSBatchResponse>;
    await new Promise((resolve) => setTimeout(resolve, 300));
    releaseA2();
    const [responseA, responseB] = await Promise.all([batchA, batchB]);

    // THEN batch A reports a1 (today it reports nothing: SQS deletes a1, and it is lost)
    expect({ a: responseA.batchItemFailures, b: responseB.batchItemFailures }).toEqual({ a: [{ itemIdentifier: 'message-a1' }], b: [] });
  });
});
