import type { Notification } from '../../../lambdas/core/notification';
import { buildApnsClearPayload, buildClearPublishInput, buildFcmClearPayload } from '../../../lambdas/core/push/clear';

const NOTIFICATION_ID = '0197a1c2-3b4d-7e5f-8a6b-7c8d9e0f1a2b';
const BUCKET_ID = 'd3c7e0a4-2b8f-4f0e-8a61-3c5d9e7f1a22';

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: NOTIFICATION_ID,
    bucketId: BUCKET_ID,
    source: 'native',
    createdAt: '2025-06-01T12:00:00.000Z',
    title: 'Login_failed: jdoe',
    body: 'from Berlin',
    sound: 'alarm.caf',
    deliveryType: 'CRITICAL',
    ...overrides,
  };
}

describe('buildApnsClearPayload', () => {
  test('is a background push with nothing but content-available in aps, and the ids under herald', () => {
    // WHEN
    const payload = buildApnsClearPayload(notification({ collapseId: 'login-jdoe' }), 'production');
    // THEN no alert, no sound, no badge: the app wakes and removes the notification
    expect(payload.key).toBe('APNS');
    expect(JSON.parse(payload.payload)).toEqual({
      aps: { 'content-available': 1 },
      herald: { action: 'clear', id: NOTIFICATION_ID, bucketId: BUCKET_ID, collapseId: 'login-jdoe' },
    });
    expect(payload.truncated).toBe(false);
  });

  test('asks SNS for push type background at priority 5, with no collapse id of its own', () => {
    expect(buildApnsClearPayload(notification({ collapseId: 'login-jdoe' }), 'production').attributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'background' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '5' },
      'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
    });
  });

  test('uses APNS_SANDBOX and its TTL attribute for a development build', () => {
    const payload = buildApnsClearPayload(notification(), 'sandbox');
    expect(payload.key).toBe('APNS_SANDBOX');
    expect(payload.attributes['AWS.SNS.MOBILE.APNS_SANDBOX.TTL']).toEqual({ DataType: 'String', StringValue: '86400' });
  });

  test('leaves collapseId out when the notification has none', () => {
    expect(JSON.parse(buildApnsClearPayload(notification(), 'production').payload).herald).toEqual({ action: 'clear', id: NOTIFICATION_ID, bucketId: BUCKET_ID });
  });
});

describe('buildFcmClearPayload', () => {
  test('is a data-only message at normal priority with the same data in FCM keys', () => {
    // WHEN
    const payload = buildFcmClearPayload(notification({ collapseId: 'login-jdoe' }));
    // THEN there is no notification block, so Android shows nothing
    expect(payload.key).toBe('GCM');
    expect(JSON.parse(payload.payload)).toEqual({
      fcmV1Message: {
        validate_only: false,
        message: {
          data: { herald_action: 'clear', herald_id: NOTIFICATION_ID, bucket_id: BUCKET_ID, collapse_id: 'login-jdoe' },
          android: { priority: 'normal', ttl: '86400s' },
        },
      },
    });
    expect(payload.attributes).toEqual({ 'AWS.SNS.MOBILE.FCM.TTL': { DataType: 'String', StringValue: '86400' } });
  });
});

describe('buildClearPublishInput', () => {
  test('wraps the platform payload for SNS like a notification publish', () => {
    // WHEN
    const input = buildClearPublishInput(notification(), { platform: 'ios', endpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald/1' });
    // THEN
    expect(input.TargetArn).toBe('arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald/1');
    expect(input.MessageStructure).toBe('json');
    const message = JSON.parse(input.Message);
    expect(Object.keys(message).sort()).toEqual(['APNS', 'default']);
    expect(message.default).toBe(`Herald: notification ${NOTIFICATION_ID} cleared`);
    expect(JSON.parse(message.APNS).herald.action).toBe('clear');
    expect(input.MessageAttributes['AWS.SNS.MOBILE.APNS.PUSH_TYPE']!.StringValue).toBe('background');
  });

  test('never carries the texts: a clear reveals nothing of the notification', () => {
    for (const platform of ['ios', 'android'] as const) {
      const input = buildClearPublishInput(notification(), { platform, endpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/X/herald/1' });
      expect(input.Message).not.toMatch(/Login_failed|Berlin|alarm/);
    }
  });
});
