import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startLocalHerald, type LocalHerald } from '../../lambdas/local/server';
import type { SqsHandler } from '../../lambdas/local/sqs-event-source';
import { waitFor } from './helpers';

/**
 * Local mode's queue semantics under faults, on the shared stand-ins: a delivery handler killed in
 * the middle of a batch, and a poison message that ends in the dead-letter queue.
 */
describe('local mode under faults', () => {
  let herald: LocalHerald;
  let crashes = 0;
  let crashNextBatch = false;

  beforeAll(async () => {
    const suffix = randomUUID().slice(0, 8);
    herald = await startLocalHerald({
      port: 0,
      standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
      tableName: `herald-faults-${suffix}`,
      queueName: `herald-faults-${suffix}`,
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 3,
      // The "kill": deliver the first half of the batch, then die before answering, as a Lambda
      // runtime crash or timeout would. SQS then redelivers the whole batch.
      wrapDeliveryHandler: (deliver: SqsHandler): SqsHandler => async (event, context) => {
        if (crashNextBatch) {
          crashNextBatch = false;
          crashes += 1;
          const half: SQSEvent = { Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) };
          await deliver(half, context);
          throw new Error('simulated crash of the delivery handler');
        }
        return deliver(event, context);
      },
    });
  });

  afterAll(async () => {
    await herald?.stop();
  });

  async function send(title: string): Promise<string> {
    const response = await fetch(`${herald.url}/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${herald.demo.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { message: { id: string } }).message.id;
  }

  test('a batch killed midway is retried, and every notification reaches each device exactly once', async () => {
    // GIVEN the next batch will crash halfway
    crashNextBatch = true;
    const before = herald.push.publishCount;
    // WHEN six notifications are sent at once (one batch)
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => send(`batch ${i}`)));
    // THEN all arrive on both demo devices, none twice
    await waitFor('all six delivered to both devices', () =>
      ids.every((id) => herald.inbox.get(id)?.deliveries.length === 2) ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // one more visibility timeout: no late duplicates
    expect(crashes).toBe(1);
    for (const id of ids) {
      const deliveries = herald.inbox.get(id)!.deliveries;
      expect(deliveries.map((delivery) => delivery.key).sort()).toEqual(['APNS', 'GCM']);
    }
    expect(herald.push.publishCount - before).toBe(12);
  });

  test('a poison message ends in the dead-letter queue and is listed on the inbox as failed', async () => {
    // GIVEN a message no delivery can process
    const { MessageId } = await herald.sqs.send(new SendMessageCommand({ QueueUrl: herald.queueUrl, MessageBody: '{"not":"a herald job"}' }));
    // THEN after maxReceiveCount receives it is in the DLQ and shown as failed
    const entry = await waitFor('the dead letter on the inbox', () => herald.inbox.get(MessageId!), 30_000);
    expect(entry.status).toBe('failed');
    expect(entry.failure).toContain('dead-letter queue');
    const json = (await (await fetch(`${herald.url}/local/inbox.json`)).json()) as { notifications: { id: string; status: string }[] };
    expect(json.notifications.find((item) => item.id === MessageId)?.status).toBe('failed');
  });
});
