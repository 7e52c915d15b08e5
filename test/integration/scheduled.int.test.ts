import { randomUUID } from 'node:crypto';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreatePlatformEndpointCommand, GetEndpointAttributesCommand, PublishCommand, SNSClient, SetEndpointAttributesCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AdminEvent } from '../../lambdas/admin';
import { createBucket } from '../../lambdas/core/store/buckets';
import { getScheduled } from '../../lambdas/core/store/scheduled';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { SqsEventSource } from '../../lambdas/local/sqs-event-source';
import { createHarness, type Harness } from './harness';

/**
 * Scheduled and delayed delivery through the real handlers on the stand-ins: ingest → fauxqs (SQS
 * `DelaySeconds`, real timers) → delivery; notifications due later go to EventBridge Scheduler,
 * mocked at the SDK boundary (it cannot run here), with ingest on a controlled clock.
 */
const APNS_APP = 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns';
const FCM_APP = 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm';
const IOS_ENDPOINT = 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/1111';
const ANDROID_ENDPOINT = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/2222';
const GROUP = 'herald-test-group';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-notifications';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-notifications-dlq';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/herald-scheduler';

const sns = mockClient(SNSClient);
const scheduler = mockClient(SchedulerClient);
let harness: Harness;
type Handler<E, R> = (event: E, context: Context) => Promise<R>;
let ingest: Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
let clockedIngest: Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
let admin: Handler<AdminEvent, APIGatewayProxyStructuredResultV2>;
let delivery: SqsEventSource;
let bucket: { id: string; name: string; token: string };
/** Publish times, per notification id (from the APNs payload's herald.id). */
let published: { at: number; endpoint: string; notificationId: string }[];
/** The clock of `clockedIngest`. */
const CLOCK = new Date('2026-03-01T12:00:00.000Z');

function httpEvent(method: string, rawPath: string, options: { headers?: Record<string, string>; body?: unknown } = {}): APIGatewayProxyEventV2 {
  const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bucket.token}`, ...options.headers },
    requestContext: {
      accountId: '123456789012', apiId: 'api', domainName: 'api.example.com', domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl' },
      requestId: randomUUID(), routeKey: '$default', stage: '$default', time: '', timeEpoch: Date.now(),
    },
    body: body?.toString('base64'),
    isBase64Encoded: body !== undefined,
  };
}

function adminEvent(method: string, path: string): AdminEvent {
  return {
    version: '2.0',
    routeKey: 'ANY /admin/{proxy+}',
    rawPath: path,
    rawQueryString: '',
    headers: {},
    requestContext: {
      accountId: '123456789012', apiId: 'api', domainName: 'api.example.com', domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'herald-cli' },
      requestId: randomUUID(), routeKey: 'ANY /admin/{proxy+}', stage: '$default', time: '', timeEpoch: Date.now(),
      authorizer: { iam: { accessKey: 'ASIAEXAMPLE', accountId: '123456789012', callerId: 'op', cognitoIdentity: null, principalOrgId: '', userArn: 'arn:aws:sts::123456789012:assumed-role/Op/op', userId: 'op' } },
    },
    isBase64Encoded: false,
  } as AdminEvent;
}

const parse = (result: APIGatewayProxyStructuredResultV2) => ({ status: result.statusCode!, body: result.body ? JSON.parse(result.body) : {} });
const send = async (body: unknown, headers: Record<string, string> = {}, handler = ingest) => parse(await handler(httpEvent('POST', '/message', { body, headers }), lambdaContext('herald-ingest', 10_000)));
const callAdmin = async (method: string, path: string) => parse(await admin(adminEvent(method, path), lambdaContext('herald-admin', 10_000)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs delivery for `ms` (real time), polling the queue as Lambda's event source would. */
async function deliverFor(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await delivery.pollOnce();
    await sleep(100);
  }
}

/** Queues a job the way EventBridge Scheduler does when a schedule fires: its Input, as the message body. */
async function fire(input: string): Promise<void> {
  await harness.sqs.send(new SendMessageCommand({ QueueUrl: harness.queues.queueUrl, MessageBody: input }));
}

beforeAll(async () => {
  harness = await createHarness({ visibilityTimeoutSeconds: 1 });
  Object.assign(process.env, {
    HERALD_APNS_APP_ARN: APNS_APP,
    HERALD_FCM_APP_ARN: FCM_APP,
    SCHEDULE_GROUP_NAME: GROUP,
    QUEUE_ARN,
    SCHEDULER_ROLE_ARN: ROLE_ARN,
    DEAD_LETTER_QUEUE_ARN: DLQ_ARN,
  });
  const { createIngestHandler } = await import('../../lambdas/ingest');
  const { createDeliveryHandler } = await import('../../lambdas/delivery');
  const { createAdminHandler } = await import('../../lambdas/admin');
  ingest = createIngestHandler() as never;
  clockedIngest = createIngestHandler({ now: () => CLOCK }) as never;
  admin = createAdminHandler() as never;
  const deliveryHandler = createDeliveryHandler() as unknown as Handler<SQSEvent, SQSBatchResponse>;
  delivery = new SqsEventSource({ sqs: harness.sqs, queueUrl: harness.queues.queueUrl, handler: deliveryHandler, waitTimeSeconds: 0 });
  const created = await createBucket(harness.store, { name: 'scheduled' });
  bucket = { id: created.bucket.id, name: 'scheduled', token: created.token };
  resetSns();
  for (const [platform, token] of [['ios', 'a'.repeat(64)], ['android', 'fcm-registration-token-0001']] as const) {
    const registered = parse(await ingest(httpEvent('POST', '/devices', { body: { platform, token } }), lambdaContext('herald-ingest', 10_000)));
    expect(registered.status).toBe(201);
  }
});

function resetSns(): void {
  published = [];
  sns.reset();
  sns.on(CreatePlatformEndpointCommand, { PlatformApplicationArn: APNS_APP }).resolves({ EndpointArn: IOS_ENDPOINT });
  sns.on(CreatePlatformEndpointCommand, { PlatformApplicationArn: FCM_APP }).resolves({ EndpointArn: ANDROID_ENDPOINT });
  sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { Enabled: 'true', Token: 'unused' } });
  sns.on(SetEndpointAttributesCommand).resolves({});
  sns.on(PublishCommand).callsFake((input: { TargetArn: string; Message: string }) => {
    const message = JSON.parse(input.Message);
    const notificationId = message.APNS ? JSON.parse(message.APNS).herald.id : JSON.parse(message.GCM).fcmV1Message.message.data.herald_id;
    published.push({ at: Date.now(), endpoint: input.TargetArn, notificationId });
    return { MessageId: randomUUID() };
  });
}

beforeEach(() => {
  resetSns();
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/x' });
  scheduler.on(DeleteScheduleCommand).resolves({});
});

const publishesOf = (id: string) => published.filter((publish) => publish.notificationId === id);

describe('a notification delayed by a few seconds (SQS DelaySeconds, real timers)', () => {
  test('does not arrive before its due time, and arrives after it', async () => {
    // WHEN it is sent with a 2 s delay and delivery polls all the while
    const accepted = await send({ title: 'Backup starts', delay: '2s' });
    expect(accepted.status).toBe(201);
    const dueAt = Date.parse(accepted.body.message.scheduledSendAt);
    const id = accepted.body.message.id as string;
    await deliverFor(1000);
    // THEN nothing was pushed in the first second
    expect(publishesOf(id)).toEqual([]);
    await deliverFor(5000);
    // AND both devices got it once, not before it was due (and well within the margin after)
    const arrivals = publishesOf(id);
    expect(arrivals.map((publish) => publish.endpoint).sort()).toEqual([IOS_ENDPOINT, ANDROID_ENDPOINT].sort());
    for (const arrival of arrivals) {
      expect(arrival.at).toBeGreaterThanOrEqual(dueAt);
      expect(arrival.at).toBeLessThan(dueAt + 5000);
    }
    // AND its record says it was sent
    expect((await getScheduled(harness.store, bucket.id, id))?.status).toBe('sent');
  });

  test('the ntfy X-Delay header schedules it too', async () => {
    const result = parse(await ingest({ ...httpEvent('POST', `/${bucket.name}`, { headers: { 'x-delay': '30s', 'content-type': 'text/plain' } }), body: Buffer.from('disk almost full').toString('base64'), isBase64Encoded: true }, lambdaContext('herald-ingest', 10_000)));
    expect(result.status).toBe(200);
    expect(Date.parse(result.body.scheduledSendAt) - result.body.time * 1000).toBeGreaterThanOrEqual(30_000);
    const record = await getScheduled(harness.store, bucket.id, result.body.id);
    expect(record).toMatchObject({ status: 'pending', mechanism: 'sqs-delay' });
    await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${result.body.id}`);
  });
});

describe('a cancelled notification', () => {
  test('cancelled through the admin API never arrives', async () => {
    const accepted = await send({ title: 'Cancel me (admin)', delay: '2s' });
    const id = accepted.body.message.id as string;
    // WHEN an operator cancels it before it is due
    const listed = await callAdmin('GET', `/admin/buckets/${bucket.name}/scheduled`);
    expect(listed.body.scheduled.map((entry: { notification: { id: string } }) => entry.notification.id)).toContain(id);
    const cancelled = await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${id}`);
    expect(cancelled).toEqual({ status: 200, body: { id, cancelled: true, cancelledAt: expect.any(String), scheduledSendAt: accepted.body.message.scheduledSendAt } });
    // THEN it is no longer listed, and nothing is pushed past its due time (the message is consumed)
    const after = await callAdmin('GET', `/admin/buckets/${bucket.name}/scheduled`);
    expect(after.body.scheduled.map((entry: { notification: { id: string } }) => entry.notification.id)).not.toContain(id);
    await deliverFor(4500);
    expect(publishesOf(id)).toEqual([]);
    expect(await delivery.depth()).toBe(0);
    // AND an SQS-delayed one had no schedule to delete
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
  });

  test('cancelled with DELETE /notifications/{id} (the sender\'s token) never arrives', async () => {
    const accepted = await send({ title: 'Cancel me (token)', delay: '2s' });
    const id = accepted.body.message.id as string;
    const deleted = parse(await ingest(httpEvent('DELETE', `/notifications/${id}`), lambdaContext('herald-ingest', 10_000)));
    expect(deleted).toEqual({ status: 202, body: { id, cancelled: true, cancelledAt: expect.any(String), scheduledSendAt: accepted.body.message.scheduledSendAt } });
    await deliverFor(4500);
    expect(publishesOf(id)).toEqual([]);
    expect((await getScheduled(harness.store, bucket.id, id))?.status).toBe('cancelled');
  });

  test('once sent, it cannot be cancelled (409), and the token route clears it instead', async () => {
    const accepted = await send({ title: 'Sent already', delay: '1s' });
    const id = accepted.body.message.id as string;
    await deliverFor(3500);
    expect(publishesOf(id)).toHaveLength(2);
    expect(await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${id}`)).toEqual({
      status: 409,
      body: { error: 'notification_already_sent', message: `notification ${id} was due at ${accepted.body.message.scheduledSendAt} and has been sent` },
    });
    const deleted = parse(await ingest(httpEvent('DELETE', `/notifications/${id}`), lambdaContext('herald-ingest', 10_000)));
    expect(deleted).toMatchObject({ status: 202, body: { id, cleared: true } });
    // The clear's silent pushes go out, leaving the queue empty for the next test.
    await deliverFor(1000);
    expect(await delivery.depth()).toBe(0);
  });

  test('an unknown id is 404 on the admin route', async () => {
    const id = '019a0000-0000-7000-8000-000000000000';
    expect(await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${id}`)).toEqual({
      status: 404,
      body: { error: 'notification_not_found', message: `no scheduled notification ${id} in this bucket` },
    });
  });
});

describe('a notification 20 days ahead (EventBridge Scheduler, controlled clock)', () => {
  const dueAt = '2026-03-21T12:00:00.000Z';

  test('creates exactly one one-time schedule; a retried request creates no second one', async () => {
    // WHEN it is sent with a 20-day delay and an Idempotency-Key, then retried
    const key = randomUUID();
    const accepted = await send({ title: 'Renew the certificate', delay: '20d' }, { 'idempotency-key': key }, clockedIngest);
    const retried = await send({ title: 'Renew the certificate', delay: '20d' }, { 'idempotency-key': key }, clockedIngest);
    // THEN
    expect(accepted.status).toBe(201);
    expect(accepted.body.message.scheduledSendAt).toBe(dueAt);
    const id = accepted.body.message.id as string;
    expect(retried).toMatchObject({ status: 200, body: { duplicate: true, message: { id } } });
    const calls = scheduler.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      Name: `herald-${id}`,
      GroupName: GROUP,
      ScheduleExpression: 'at(2026-03-21T12:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: QUEUE_ARN,
        RoleArn: ROLE_ARN,
        Input: JSON.stringify({ kind: 'scheduled', notification: { id, bucketId: bucket.id } }),
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        DeadLetterConfig: { Arn: DLQ_ARN },
      },
    });
    // AND nothing was queued for it, and its record is pending
    expect(await delivery.depth()).toBe(0);
    expect(await getScheduled(harness.store, bucket.id, id)).toMatchObject({ status: 'pending', mechanism: 'scheduler', scheduleName: `herald-${id}`, dueAt });
    await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${id}`);
  });

  test('when the schedule fires, it is delivered once, even if Scheduler queues it twice', async () => {
    const accepted = await send({ title: 'Quarterly access review' , delay: '20d' }, {}, clockedIngest);
    const id = accepted.body.message.id as string;
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!.Input!;
    // WHEN Scheduler queues its input (twice: it delivers at least once)
    await fire(input);
    await fire(input);
    await deliverFor(2500);
    // THEN each device got it once, with the stored notification's content
    expect(publishesOf(id).map((publish) => publish.endpoint).sort()).toEqual([IOS_ENDPOINT, ANDROID_ENDPOINT].sort());
    expect((await getScheduled(harness.store, bucket.id, id))?.status).toBe('sent');
    expect(await delivery.depth()).toBe(0);
  });

  test('cancelling deletes its schedule; if it fires anyway, nothing is pushed', async () => {
    const accepted = await send({ title: 'Never mind', scheduledSendAt: dueAt }, {}, clockedIngest);
    const id = accepted.body.message.id as string;
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!.Input!;
    // WHEN
    const cancelled = await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${id}`);
    const repeated = await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${id}`);
    // THEN the schedule is deleted once; a repeat gets the same answer
    expect(cancelled.status).toBe(200);
    expect(repeated).toEqual(cancelled);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([{ Name: `herald-${id}`, GroupName: GROUP }]);
    await fire(input);
    await deliverFor(1500);
    expect(publishesOf(id)).toEqual([]);
    expect(await delivery.depth()).toBe(0);
  });

  test('a job whose record is gone (its bucket was deleted) is dropped, not retried', async () => {
    const id = '019a0000-0000-7000-8000-00000000dead';
    await fire(JSON.stringify({ kind: 'scheduled', notification: { id, bucketId: bucket.id } }));
    await deliverFor(1500);
    expect(publishesOf(id)).toEqual([]);
    expect(await delivery.depth()).toBe(0);
  });

  test('deleting a bucket deletes the schedules of its pending notifications', async () => {
    // GIVEN another bucket with a notification due in 20 days
    const other = await createBucket(harness.store, { name: 'scheduled-doomed' });
    const accepted = await send({ title: 'Due in 20 days', delay: '20d' }, { authorization: `Bearer ${other.token}` }, clockedIngest);
    expect(accepted.status).toBe(201);
    const id = accepted.body.message.id as string;
    // WHEN the bucket is deleted
    expect((await callAdmin('DELETE', '/admin/buckets/scheduled-doomed')).status).toBe(204);
    // THEN its schedule is deleted, exactly once, and its record is gone with the bucket
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([{ Name: `herald-${id}`, GroupName: GROUP }]);
    expect(await getScheduled(harness.store, other.bucket.id, id)).toBeUndefined();
  });

  test('a schedule that exists already (a retry whose reply was lost) counts as created', async () => {
    scheduler.on(CreateScheduleCommand).rejects(Object.assign(new Error('schedule exists'), { name: 'ConflictException' }));
    const accepted = await send({ title: 'Conflict', delay: '20d' }, {}, clockedIngest);
    expect(accepted.status).toBe(201);
    await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${accepted.body.message.id}`);
  });

  test('Scheduler failing is a 503, and the retry schedules the same notification id', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })).resolves({});
    const key = randomUUID();
    const failed = await send({ title: 'Flaky', delay: '20d' }, { 'idempotency-key': key }, clockedIngest);
    const retried = await send({ title: 'Flaky', delay: '20d' }, { 'idempotency-key': key }, clockedIngest);
    expect(failed).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
    expect(retried.status).toBe(201);
    const names = scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input.Name);
    expect(names).toEqual([names[0], names[0]]);
    expect(names[0]).toBe(`herald-${retried.body.message.id}`);
    await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${retried.body.message.id}`);
  });
});

describe('times Herald refuses', () => {
  test.each([
    [{ title: 't', scheduledSendAt: '2026-03-01T11:00:00Z' }, 'scheduledSendAt: is in the past'],
    [{ title: 't', delay: '31d' }, 'delay: is more than 30 days ahead (the limit)'],
    [{ title: 't', scheduledSendAt: '2026-04-01T00:00:01Z' }, 'scheduledSendAt: is more than 30 days ahead (the limit)'],
    [{ title: 't', scheduledSendAt: '2026-03-02T00:00:00Z', delay: '1h' }, 'scheduledSendAt, delay: give one of them, not both'],
    [{ title: 't', delay: 'tomorrow' }, 'delay: must be a duration such as 30s, 30m, 2h, 1d or 1h30m, or a time (given "tomorrow")'],
  ])('%j is a 400 naming the field, and schedules nothing', async (body, message) => {
    expect(await send(body, {}, clockedIngest)).toEqual({ status: 400, body: { error: 'validation_failed', message } });
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
  });
});

describe('acceptNotifications without a scheduler (a deployment or test without one)', () => {
  test('queues a notification due within 15 minutes, and refuses one due later naming the field', async () => {
    const { acceptNotifications } = await import('../../lambdas/core/accept');
    const { SqsNotificationQueue } = await import('../../lambdas/core/queue');
    const deps = { store: harness.store, queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs), now: () => CLOCK };
    const soon = await acceptNotifications(deps, bucket.id, 'native', [{ content: { title: 'soon' }, timing: { delay: '15m' } }]);
    expect(soon.queued[0]!.scheduledSendAt).toBe('2026-03-01T12:15:00.000Z');
    await expect(acceptNotifications(deps, bucket.id, 'native', [{ content: { title: 'later' }, timing: { scheduledSendAt: '2026-03-01T12:15:01Z' } }])).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'scheduledSendAt: more than 15 minutes ahead needs EventBridge Scheduler, which is not configured here',
    });
    // The queued one is held by SQS for its 15 minutes (CLOCK is in the past, so fauxqs was asked for no delay): drop it.
    await callAdmin('DELETE', `/admin/buckets/${bucket.name}/scheduled/${soon.queued[0]!.id}`);
  });
});
