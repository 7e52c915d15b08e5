import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { PushError } from '../../lambdas/core/push/gateway';
import { startLocalHerald, type LocalHerald } from '../../lambdas/local/server';
import { waitFor } from '../local/helpers';

/**
 * `herald dlq list` and `herald dlq redrive` against a local Herald, signed with SigV4 as in the
 * cloud: a poison message and two real notifications land in the DLQ (maxReceiveCount 2), the
 * listing says why each failed, and after the faults are gone a redrive delivers the notifications
 * once per device, the device served before the dead-lettering included.
 */

const HERALD = path.join(__dirname, '..', '..', 'bin', 'herald.mjs');

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function herald(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('node', [HERALD, ...args], { env: process.env }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    child.stdin!.end();
  });
}

interface DeadLetterView {
  messageId: string;
  notificationId?: string;
  bucketId?: string;
  title?: string;
  receiveCount: number;
  reason?: string;
  attempts?: number;
  body?: string;
}

describe('herald dlq on a local Herald', () => {
  let local: LocalHerald;
  const suffix = randomUUID().slice(0, 8);
  /** Its Android push fails (retryable): the iPhone is served, then it is dead-lettered. */
  const androidDownTitle = `dlq-android-down-${suffix}`;
  /** The delivery function never gets it (a wrapper fails it before): dead-lettered with no reason recorded. */
  const neverDeliveredTitle = `dlq-never-delivered-${suffix}`;
  let faultsOn = true;

  beforeAll(async () => {
    local = await startLocalHerald({
      port: 0,
      standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
      tableName: `herald-dlq-${suffix}`,
      queueName: `herald-dlq-${suffix}`,
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
      wrapDeliveryHandler: (deliver) => async (event, context) => {
        const failed = event.Records.filter((record) => faultsOn && record.body.includes(neverDeliveredTitle));
        const rest = event.Records.filter((record) => !failed.includes(record));
        const response = rest.length > 0 ? ((await deliver({ Records: rest }, context)) as SQSBatchResponse | undefined) : undefined;
        return { batchItemFailures: [...(response?.batchItemFailures ?? []), ...failed.map((record) => ({ itemIdentifier: record.messageId }))] };
      },
    });
    local.push.fault = (input) =>
      faultsOn && input.Message.includes(androidDownTitle) && 'GCM' in (JSON.parse(input.Message) as object) ? new PushError('retryable', 'InternalErrorException') : undefined;
  });

  afterAll(() => local?.stop());

  async function cli<T>(args: string[]): Promise<T> {
    const result = await herald([...args, '--local', local.url, '--json']);
    if (result.code !== 0) throw new Error(`herald ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  async function send(title: string): Promise<string> {
    const response = await fetch(`${local.url}/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${local.demo.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { message: { id: string } }).message.id;
  }

  async function deadLetterCount(): Promise<number> {
    const { Attributes = {} } = await local.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: local.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  }

  /** Which platforms got each push of a notification, in order (a duplicate shows twice). */
  const pushesOf = (notificationId: string) => (local.inbox.get(notificationId)?.deliveries ?? []).map((delivery) => delivery.key).sort();

  test('list shows what failed and why; redrive --wait moves it back; each device gets each notification once', async () => {
    // GIVEN a poison message and two notifications that cannot be delivered
    const { MessageId: poisonId } = await local.sqs.send(new SendMessageCommand({ QueueUrl: local.queueUrl, MessageBody: '{"not":"a herald job"}' }));
    const androidDown = await send(androidDownTitle);
    const neverDelivered = await send(neverDeliveredTitle);
    await waitFor('three dead letters', async () => ((await deadLetterCount()) === 3 ? true : undefined), 30_000);
    expect(pushesOf(androidDown)).toEqual(['APNS']);
    expect(pushesOf(neverDelivered)).toEqual([]);

    // WHEN listed
    const listing = await cli<{ deadLetters: DeadLetterView[]; approximateCount: number }>(['dlq', 'list']);

    // THEN each is there, with why
    expect(listing.approximateCount).toBe(3);
    const byNotification = new Map(listing.deadLetters.map((letter) => [letter.notificationId ?? letter.messageId, letter]));
    expect(byNotification.get(androidDown)).toMatchObject({
      bucketId: local.demo.bucket.id,
      title: androidDownTitle,
      reason: '1 device(s) to retry: InternalErrorException',
      attempts: 2,
      receiveCount: expect.any(Number),
    });
    expect(byNotification.get(androidDown)!.receiveCount).toBeGreaterThanOrEqual(2);
    expect(byNotification.get(neverDelivered)).toMatchObject({ title: neverDeliveredTitle, bucketId: local.demo.bucket.id });
    expect(byNotification.get(neverDelivered)!.reason).toBeUndefined();
    expect(byNotification.get(poisonId!)).toMatchObject({ reason: 'not a Herald delivery job: queued message is not a Herald delivery job', body: '{"not":"a herald job"}' });
    // Listing takes nothing out of the DLQ.
    expect(await deadLetterCount()).toBe(3);

    // WHEN the faults are gone and the DLQ is redriven
    faultsOn = false;
    const redriven = await cli<{ taskHandle: string; alreadyRunning: boolean; task: { status: string; messagesMoved: number } }>(['dlq', 'redrive', '--wait']);

    // THEN all three moved; each device gets each notification exactly once
    expect(redriven).toMatchObject({ taskHandle: expect.any(String), alreadyRunning: false, task: { status: 'COMPLETED', messagesMoved: 3 } });
    await waitFor('both notifications on both devices', () =>
      pushesOf(androidDown).length === 2 && pushesOf(neverDelivered).length === 2 ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 2500)); // two more visibility timeouts: no late duplicates
    expect(pushesOf(androidDown)).toEqual(['APNS', 'GCM']);
    expect(pushesOf(neverDelivered)).toEqual(['APNS', 'GCM']);
    const { tasks } = await cli<{ tasks: { status: string; messagesMoved: number }[] }>(['dlq', 'status']);
    expect(tasks[0]).toMatchObject({ status: 'COMPLETED', messagesMoved: 3 });
  });

  test('list prints a table for people: notification, bucket, title, receives, reason', async () => {
    // GIVEN a dead letter with a known reason
    const title = `dlq-table-${suffix}`;
    const previous = local.push.fault;
    local.push.fault = (input) => (input.Message.includes(title) && 'GCM' in (JSON.parse(input.Message) as object) ? new PushError('retryable', 'EndpointTimeout') : undefined);
    try {
      const id = await send(title);
      await waitFor('the dead letter', async () => {
        const { deadLetters } = await cli<{ deadLetters: DeadLetterView[] }>(['dlq', 'list']);
        return deadLetters.find((letter) => letter.notificationId === id);
      }, 30_000);

      // WHEN listed for people
      const table = await herald(['dlq', 'list', '--local', local.url]);

      // THEN a header and an aligned row saying why
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NOTIFICATION\s+BUCKET\s+TITLE\s+RECEIVES\s+REASON$/);
      const row = lines.find((line) => line.startsWith(id))!;
      expect(row).toContain(local.demo.bucket.id);
      expect(row).toContain(title);
      expect(row).toMatch(/1 device\(s\) to retry: EndpointTimeout$/);
      expect(row.indexOf(local.demo.bucket.id)).toBe(lines[0]!.indexOf('BUCKET'));
    } finally {
      local.push.fault = previous;
    }
  });

  test('redrive without --wait prints the task handle', async () => {
    const result = await herald(['dlq', 'redrive', '--local', local.url]);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Redrive:\s+(started|already running)$/m);
    expect(result.stdout).toMatch(/^Task handle:\s+\S+$/m);
  });

  test('a bad --limit is one clear line and exit code 1', async () => {
    const result = await herald(['dlq', 'list', '--limit', '0', '--local', local.url]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe('herald: --limit must be a whole number from 1 to 100 (given "0")\n');
  });
});
