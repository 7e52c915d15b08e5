import type { PublishCommandInput } from '@aws-sdk/client-sns';
import type { Notification } from '../../../lambdas/core/notification';
import { buildApnsPayload } from '../../../lambdas/core/push/apns';
import { buildFcmPayload } from '../../../lambdas/core/push/fcm';
import { buildPublishInput, DEFAULT_MESSAGE_MAX_CHARS } from '../../../lambdas/core/push/publish-request';

const ENDPOINT_ARN = 'arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/herald/5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f';

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: '0b9f6a52-6d38-4c43-9a55-6f2f4f3b7c11',
    bucketId: 'd3c7e0a4-2b8f-4f0e-8a61-3c5d9e7f1a22',
    source: 'authentik',
    createdAt: '2025-06-01T12:00:00.000Z',
    title: 'New login',
    body: 'From 203.0.113.7',
    deliveryType: 'NORMAL',
    ...overrides,
  };
}

describe('buildPublishInput, iOS', () => {
  test('builds the exact Publish input for a production device', () => {
    const subject = notification({ collapseId: 'login-akadmin' });
    const apns = buildApnsPayload(subject, 'production');

    const request = buildPublishInput(subject, {
      platform: 'ios',
      environment: 'production',
      endpointArn: ENDPOINT_ARN,
    });

    expect(request.input).toEqual({
      TargetArn: ENDPOINT_ARN,
      MessageStructure: 'json',
      Message: JSON.stringify({ default: 'New login: From 203.0.113.7', APNS: apns.payload }),
      MessageAttributes: apns.attributes,
    });
  });

  test('defaults to the production environment', () => {
    const { input } = buildPublishInput(notification(), { platform: 'ios', endpointArn: ENDPOINT_ARN });

    expect(Object.keys(JSON.parse(input.Message))).toEqual(['default', 'APNS']);
  });

  test('reaches a sandbox device through APNS_SANDBOX only', () => {
    const { input } = buildPublishInput(notification(), {
      platform: 'ios',
      environment: 'sandbox',
      endpointArn: ENDPOINT_ARN,
    });

    expect(Object.keys(JSON.parse(input.Message))).toEqual(['default', 'APNS_SANDBOX']);
    expect(input.MessageAttributes).toHaveProperty(['AWS.SNS.MOBILE.APNS_SANDBOX.TTL']);
  });
});

describe('buildPublishInput, Android', () => {
  test('builds the exact Publish input with the GCM key', () => {
    const subject = notification();
    const fcm = buildFcmPayload(subject);

    const request = buildPublishInput(subject, { platform: 'android', endpointArn: ENDPOINT_ARN });

    expect(request.input).toEqual({
      TargetArn: ENDPOINT_ARN,
      MessageStructure: 'json',
      Message: JSON.stringify({ default: 'New login: From 203.0.113.7', GCM: fcm.payload }),
      MessageAttributes: { 'AWS.SNS.MOBILE.FCM.TTL': { DataType: 'String', StringValue: '86400' } },
    });
  });

  test('ignores an APNs environment', () => {
    const { input } = buildPublishInput(notification(), {
      platform: 'android',
      environment: 'sandbox',
      endpointArn: ENDPOINT_ARN,
    });

    expect(Object.keys(JSON.parse(input.Message))).toEqual(['default', 'GCM']);
  });
});

describe('buildPublishInput, Message', () => {
  test('every Message value is a string: the platform payload is escaped JSON text', () => {
    const { input } = buildPublishInput(notification(), { platform: 'android', endpointArn: ENDPOINT_ARN });
    const message = JSON.parse(input.Message);

    for (const value of Object.values(message)) expect(typeof value).toBe('string');
    expect(JSON.parse(message.GCM).fcmV1Message.message.notification.title).toBe('New login');
  });

  test('the default text is the title alone without a body', () => {
    const { input } = buildPublishInput(notification({ body: undefined }), {
      platform: 'ios',
      endpointArn: ENDPOINT_ARN,
    });

    expect(JSON.parse(input.Message).default).toBe('New login');
  });

  test('the default text is cut to its limit, ending with "…"', () => {
    const { input } = buildPublishInput(notification({ body: 'x'.repeat(5_000) }), {
      platform: 'ios',
      endpointArn: ENDPOINT_ARN,
    });
    const text: string = JSON.parse(input.Message).default;

    expect(Array.from(text)).toHaveLength(DEFAULT_MESSAGE_MAX_CHARS);
    expect(text).toMatch(/^New login: x+…$/);
  });

  test('the input is a PublishCommandInput', () => {
    // Checked by `tsc`: the assignment fails to compile if the shapes drift apart.
    const input: PublishCommandInput = buildPublishInput(notification(), {
      platform: 'ios',
      endpointArn: ENDPOINT_ARN,
    }).input;

    expect(input.MessageStructure).toBe('json');
  });
});

describe('buildPublishInput, truncation', () => {
  test('reports a payload that was cut to fit', () => {
    const request = buildPublishInput(notification({ body: 'x'.repeat(20_000) }), {
      platform: 'android',
      endpointArn: ENDPOINT_ARN,
    });

    expect(request.truncated).toBe(true);
  });

  test('reports a payload that fit as is', () => {
    const request = buildPublishInput(notification(), { platform: 'ios', endpointArn: ENDPOINT_ARN });

    expect(request.truncated).toBe(false);
  });
});

describe('buildPublishInput, NO_PUSH', () => {
  test('throws: delivery must filter NO_PUSH notifications out first', () => {
    expect(() =>
      buildPublishInput(notification({ deliveryType: 'NO_PUSH' }), { platform: 'ios', endpointArn: ENDPOINT_ARN }),
    ).toThrow(/NO_PUSH/);
  });
});

describe('buildPublishInput, passive presentation (quiet hours, snooze)', () => {
  const ios = { platform: 'ios', environment: 'production', endpointArn: ENDPOINT_ARN } as const;
  const android = { platform: 'android', endpointArn: ENDPOINT_ARN.replace('/APNS/', '/GCM/') } as const;
  const apnsOf = (input: { Message: string }) => JSON.parse(JSON.parse(input.Message).APNS);
  const fcmOf = (input: { Message: string }) => JSON.parse(JSON.parse(input.Message).GCM).fcmV1Message.message;

  test('NORMAL on iOS: passive interruption level, no sound, priority 5', () => {
    const { input } = buildPublishInput(notification({ sound: 'chime.caf' }), ios, 'passive');

    expect(apnsOf(input).aps).toEqual({
      alert: { title: 'New login', body: 'From 203.0.113.7' },
      'thread-id': 'd3c7e0a4-2b8f-4f0e-8a61-3c5d9e7f1a22',
      'interruption-level': 'passive',
    });
    expect(apnsOf(input).herald.presentation).toBe('passive');
    expect(input.MessageAttributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '5' },
      'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
    });
  });

  test('NORMAL on Android: the quiet channel at low priority, no sound, normal delivery priority', () => {
    const { input } = buildPublishInput(notification({ sound: 'chime' }), android, 'passive');

    const message = fcmOf(input);
    expect(message.android).toEqual({
      priority: 'normal',
      ttl: '86400s',
      notification: { channel_id: 'herald_quiet', tag: '0b9f6a52-6d38-4c43-9a55-6f2f4f3b7c11', notification_priority: 'PRIORITY_LOW' },
    });
    expect(message.notification).toEqual({ title: 'New login', body: 'From 203.0.113.7' });
    expect(message.data.presentation).toBe('passive');
  });

  test('CRITICAL ignores it and still alerts', () => {
    const critical = notification({ deliveryType: 'CRITICAL' });
    expect(buildPublishInput(critical, ios, 'passive')).toEqual(buildPublishInput(critical, ios));
    expect(buildPublishInput(critical, android, 'passive')).toEqual(buildPublishInput(critical, android));
  });

  test('SILENT ignores it', () => {
    const silent = notification({ deliveryType: 'SILENT' });
    expect(buildPublishInput(silent, ios, 'passive')).toEqual(buildPublishInput(silent, ios));
    expect(buildPublishInput(silent, android, 'passive')).toEqual(buildPublishInput(silent, android));
  });

  test('alert, the default, is the unchanged payload', () => {
    expect(buildPublishInput(notification(), ios, 'alert')).toEqual(buildPublishInput(notification(), ios));
    expect(apnsOf(buildPublishInput(notification(), ios).input).aps['interruption-level']).toBe('active');
    expect(fcmOf(buildPublishInput(notification(), android).input).android.notification.channel_id).toBe('herald_default');
  });
});
