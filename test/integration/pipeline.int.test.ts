import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CreatePlatformEndpointCommand,
  GetEndpointAttributesCommand,
  PublishCommand,
  SNSClient,
  SetEndpointAttributesCommand,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createBucket } from '../../lambdas/core/store/buckets';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { SqsEventSource } from '../../lambdas/local/sqs-event-source';
import { createHarness, type Harness } from './harness';

/**
 * The whole cloud pipeline on the stand-ins: the real ingest handler (API Gateway 2.0 events) →
 * fauxqs → the real delivery handler (SQS events, partial batch responses) → SNS, mocked at the SDK
 * boundary only, with the exact Publish requests asserted.
 */
const APNS_APP = 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns';
const FCM_APP = 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm';
const IOS_ENDPOINT = 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/1111';
const ANDROID_ENDPOINT = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/2222';
const fixture = (name: string) => readFileSync(path.join(__dirname, '..', 'fixtures', 'authentik', name));

const sns = mockClient(SNSClient);
let harness: Harness;
let ingest: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let delivery: SqsEventSource;
let credentials: { token: string; magicCode: string; bucketId: string };

function httpEvent(method: string, rawPath: string, options: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer | string } = {}): APIGatewayProxyEventV2 {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...options.headers },
    queryStringParameters: options.query,
    requestContext: {
      accountId: '123456789012', apiId: 'api', domainName: 'api.example.com', domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'authentik@2025.10.1' },
      requestId: 'req', routeKey: `${method} ${rawPath}`, stage: '$default', time: '', timeEpoch: Date.now(),
    },
    body: body?.toString('base64'),
    isBase64Encoded: body !== undefined,
  };
}

async function invoke(event: APIGatewayProxyEventV2): Promise<{ status: number; body: Record<string, unknown> }> {
  const result = await ingest(event, lambdaContext('herald-ingest', 10_000));
  return { status: result.statusCode!, body: result.body ? JSON.parse(result.body) : {} };
}

/** Lets the delivery event source run until the queue is empty. */
async function deliverAll(): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    await delivery.pollOnce();
    if ((await delivery.depth()) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the queue did not drain');
}

function publishedTo(endpoint: string) {
  return sns.commandCalls(PublishCommand).filter((call) => call.args[0].input.TargetArn === endpoint);
}

beforeAll(async () => {
  harness = await createHarness({ visibilityTimeoutSeconds: 1 });
  process.env.HERALD_APNS_APP_ARN = APNS_APP;
  process.env.HERALD_FCM_APP_ARN = FCM_APP;
  const { handler: ingestHandler } = await import('../../lambdas/ingest');
  const { handler: deliveryHandler } = await import('../../lambdas/delivery');
  ingest = ingestHandler as never;
  delivery = new SqsEventSource({ sqs: harness.sqs, queueUrl: harness.queues.queueUrl, handler: deliveryHandler as never, waitTimeSeconds: 0 });
  const created = await createBucket(harness.store, { name: 'secops' });
  credentials = { token: created.token, magicCode: created.magicCode, bucketId: created.bucket.id };
});

beforeEach(() => {
  sns.reset();
  sns.on(CreatePlatformEndpointCommand, { PlatformApplicationArn: APNS_APP }).resolves({ EndpointArn: IOS_ENDPOINT });
  sns.on(CreatePlatformEndpointCommand, { PlatformApplicationArn: FCM_APP }).resolves({ EndpointArn: ANDROID_ENDPOINT });
  sns.on(GetEndpointAttributesCommand).resolves({ Attributes: { Enabled: 'true', Token: 'unused' } });
  sns.on(SetEndpointAttributesCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'sns-message-id' });
});

describe('ingest → SQS → delivery → SNS', () => {
  test('devices register through POST /devices with the create/get/set endpoint algorithm', async () => {
    // GIVEN the endpoints report their tokens as registered
    sns.on(GetEndpointAttributesCommand, { EndpointArn: IOS_ENDPOINT }).resolves({ Attributes: { Enabled: 'true', Token: 'a'.repeat(64) } });
    sns.on(GetEndpointAttributesCommand, { EndpointArn: ANDROID_ENDPOINT }).resolves({ Attributes: { Enabled: 'true', Token: 'fcm-registration-token-0001' } });
    // WHEN
    const ios = await invoke(httpEvent('POST', '/devices', { headers: { authorization: `Bearer ${credentials.token}` }, body: JSON.stringify({ platform: 'ios', token: 'a'.repeat(64), name: 'iPhone' }) }));
    const android = await invoke(httpEvent('POST', '/devices', { headers: { authorization: `Bearer ${credentials.token}` }, body: JSON.stringify({ platform: 'android', token: 'fcm-registration-token-0001', name: 'Pixel' }) }));
    // THEN
    expect([ios.status, android.status]).toEqual([201, 201]);
    expect(sns).toHaveReceivedCommandWith(CreatePlatformEndpointCommand, { PlatformApplicationArn: APNS_APP, Token: 'a'.repeat(64) });
    expect(sns.commandCalls(CreatePlatformEndpointCommand)[0]!.args[0].input).toEqual({ PlatformApplicationArn: APNS_APP, Token: 'a'.repeat(64) });
    expect(sns).not.toHaveReceivedCommand(SetEndpointAttributesCommand);
    expect(JSON.stringify([ios.body, android.body])).not.toContain('fcm-registration-token');
  });

  test('an authentik failed login posted with the magic code ends as one push per device', async () => {
    // WHEN
    const accepted = await invoke(httpEvent('POST', '/transform', {
      query: { parser: 'ZENTIK_AUTHENTIK', magicCode: credentials.magicCode },
      body: fixture('webhook-login-failed.json'),
    }));
    await deliverAll();
    // THEN
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ notificationsCount: 1, message: { title: 'Login_failed: jdoe', deliveryType: 'CRITICAL' } });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
    const [ios] = publishedTo(IOS_ENDPOINT);
    const iosInput = ios!.args[0].input;
    expect(iosInput.MessageStructure).toBe('json');
    expect(iosInput.MessageAttributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
      'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
    });
    const iosMessage = JSON.parse(iosInput.Message!);
    expect(Object.keys(iosMessage).sort()).toEqual(['APNS', 'default']);
    const apns = JSON.parse(iosMessage.APNS);
    expect(apns.aps).toMatchObject({ alert: { title: 'Login_failed: jdoe', subtitle: 'jane.doe@acme-corp.example' }, 'interruption-level': 'time-sensitive', sound: 'default' });
    expect(apns.herald).toMatchObject({ id: accepted.body.message && (accepted.body.message as { id: string }).id, deliveryType: 'CRITICAL', source: 'authentik' });

    const [android] = publishedTo(ANDROID_ENDPOINT);
    const gcm = JSON.parse(JSON.parse(android!.args[0].input.Message!).GCM);
    expect(gcm.fcmV1Message.message.notification.title).toBe('Login_failed: jdoe');
    expect(gcm.fcmV1Message.message.android).toMatchObject({ priority: 'high', notification: { channel_id: 'herald_critical' } });
    expect(Object.values(gcm.fcmV1Message.message.data).every((value) => typeof value === 'string')).toBe(true);
  });

  test('authentik posts once per recipient; only the first is pushed', async () => {
    const body = JSON.parse(fixture('webhook-login.json').toString());
    const first = await invoke(httpEvent('POST', '/transform', { query: { parser: 'authentik', magicCode: credentials.magicCode }, body: JSON.stringify(body) }));
    const second = await invoke(httpEvent('POST', '/transform', {
      query: { parser: 'authentik', magicCode: credentials.magicCode },
      body: JSON.stringify({ ...body, user_email: 'other@acme-corp.example', user_username: 'other' }),
    }));
    await deliverAll();
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toMatchObject({ duplicate: true, notificationsCount: 0 });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  });

  test('a throttled device is retried alone; the device that got the push is not sent it again', async () => {
    // GIVEN SNS throttles the first publish to the Android endpoint
    let androidAttempts = 0;
    sns.on(PublishCommand, { TargetArn: ANDROID_ENDPOINT }).callsFake(() => {
      androidAttempts += 1;
      if (androidAttempts === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException', $metadata: { httpStatusCode: 400 } });
      return { MessageId: 'retried' };
    });
    // WHEN
    const accepted = await invoke(httpEvent('POST', '/message', {
      headers: { authorization: `Bearer ${credentials.token}` },
      body: JSON.stringify({ title: 'Backup finished', body: 'nightly', deliveryType: 'normal' }),
    }));
    await deliverAll();
    // THEN
    expect(accepted.status).toBe(201);
    expect(publishedTo(IOS_ENDPOINT)).toHaveLength(1);
    expect(publishedTo(ANDROID_ENDPOINT)).toHaveLength(2);
    expect(androidAttempts).toBe(2);
  });

  test('a disabled endpoint disables the device and is not retried', async () => {
    sns.on(PublishCommand, { TargetArn: IOS_ENDPOINT }).rejects(
      Object.assign(new Error('Endpoint is disabled'), { name: 'EndpointDisabledException', $metadata: { httpStatusCode: 400 } }),
    );
    await invoke(httpEvent('POST', '/message', { headers: { authorization: `Bearer ${credentials.token}` }, body: JSON.stringify({ title: 'first' }) }));
    await deliverAll();
    sns.resetHistory();
    await invoke(httpEvent('POST', '/message', { headers: { authorization: `Bearer ${credentials.token}` }, body: JSON.stringify({ title: 'second' }) }));
    await deliverAll();
    expect(publishedTo(IOS_ENDPOINT)).toHaveLength(0);
    expect(publishedTo(ANDROID_ENDPOINT)).toHaveLength(1);
  });
});
