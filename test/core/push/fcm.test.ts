import type { Notification } from '../../../lambdas/core/notification';
import { PUSH_PAYLOAD_LIMIT_BYTES } from '../../../lambdas/core/push/budget';
import { buildFcmPayload, FCM_CHANNEL_CRITICAL, FCM_CHANNEL_DEFAULT } from '../../../lambdas/core/push/fcm';

const NOTIFICATION_ID = '0b9f6a52-6d38-4c43-9a55-6f2f4f3b7c11';
const BUCKET_ID = 'd3c7e0a4-2b8f-4f0e-8a61-3c5d9e7f1a22';

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: NOTIFICATION_ID,
    bucketId: BUCKET_ID,
    source: 'authentik',
    createdAt: '2025-06-01T12:00:00.000Z',
    title: 'New login',
    deliveryType: 'NORMAL',
    ...overrides,
  };
}

/** The FCM v1 `message` inside SNS's `fcmV1Message` wrapper. */
function messageOf(payload: string) {
  return JSON.parse(payload).fcmV1Message.message;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('buildFcmPayload, envelope', () => {
  test('uses the GCM key: SNS has no FCM key', () => {
    expect(buildFcmPayload(notification()).key).toBe('GCM');
  });

  test('wraps the v1 message in fcmV1Message with validate_only false and no token', () => {
    const { fcmV1Message } = JSON.parse(buildFcmPayload(notification()).payload);

    expect(fcmV1Message.validate_only).toBe(false);
    expect(fcmV1Message.message.token).toBeUndefined();
  });

  test('sets exactly the FCM TTL attribute', () => {
    expect(buildFcmPayload(notification()).attributes).toEqual({
      'AWS.SNS.MOBILE.FCM.TTL': { DataType: 'String', StringValue: '86400' },
    });
  });
});

describe('buildFcmPayload, NORMAL', () => {
  test('builds a high-priority notification message on the default channel', () => {
    const message = messageOf(buildFcmPayload(notification({ body: 'From 203.0.113.7' })).payload);

    expect(message).toEqual({
      notification: { title: 'New login', body: 'From 203.0.113.7' },
      data: { herald_id: NOTIFICATION_ID, bucket_id: BUCKET_ID, delivery_type: 'NORMAL', source: 'authentik' },
      android: {
        priority: 'high',
        ttl: '86400s',
        notification: { channel_id: FCM_CHANNEL_DEFAULT, tag: NOTIFICATION_ID, notification_priority: 'PRIORITY_DEFAULT' },
      },
    });
  });

  test('puts the subtitle in data: Android notifications have none', () => {
    const message = messageOf(buildFcmPayload(notification({ subtitle: 'akadmin' })).payload);

    expect(message.data.subtitle).toBe('akadmin');
    expect(message.notification).toEqual({ title: 'New login' });
  });

  test("plays the notification's own sound when it names one", () => {
    const message = messageOf(buildFcmPayload(notification({ sound: 'chime' })).payload);

    expect(message.android.notification.sound).toBe('chime');
  });
});

describe('buildFcmPayload, CRITICAL', () => {
  test('uses the critical channel at PRIORITY_MAX and high delivery priority', () => {
    const message = messageOf(buildFcmPayload(notification({ deliveryType: 'CRITICAL' })).payload);

    expect(message.android.priority).toBe('high');
    expect(message.android.notification).toEqual({
      channel_id: FCM_CHANNEL_CRITICAL,
      tag: NOTIFICATION_ID,
      notification_priority: 'PRIORITY_MAX',
    });
  });
});

describe('buildFcmPayload, SILENT', () => {
  const silent = notification({ deliveryType: 'SILENT', subtitle: 'akadmin', body: 'Token rotated', sound: 'chime' });

  test('sends a data-only message at normal priority', () => {
    const message = messageOf(buildFcmPayload(silent).payload);

    expect(message.notification).toBeUndefined();
    expect(message.android).toEqual({ priority: 'normal', ttl: '86400s' });
  });

  test('carries the texts in data', () => {
    const message = messageOf(buildFcmPayload(silent).payload);

    expect(message.data).toMatchObject({ title: 'New login', subtitle: 'akadmin', body: 'Token rotated' });
  });
});

describe('buildFcmPayload, optional content', () => {
  const full = notification({
    subtitle: 'akadmin',
    tapUrl: 'https://idp.example.com/if/admin/',
    imageUrl: 'https://example.com/a.png',
    actions: [{ type: 'NAVIGATE', value: 'https://example.com', title: 'Open', destructive: false }],
    tags: ['security', 'login'],
    collapseId: 'login-akadmin',
    groupId: 'logins',
  });

  test('data values are all strings', () => {
    const { data } = messageOf(buildFcmPayload(full).payload);

    for (const value of Object.values(data)) expect(typeof value).toBe('string');
  });

  test('data holds every custom field, tags as CSV and actions as JSON text', () => {
    const { data } = messageOf(buildFcmPayload(full).payload);

    expect(data).toEqual({
      herald_id: NOTIFICATION_ID,
      bucket_id: BUCKET_ID,
      delivery_type: 'NORMAL',
      subtitle: 'akadmin',
      tap_url: 'https://idp.example.com/if/admin/',
      image_url: 'https://example.com/a.png',
      group_id: 'logins',
      collapse_id: 'login-akadmin',
      source: 'authentik',
      tags: 'security,login',
      actions: '[{"type":"NAVIGATE","value":"https://example.com","title":"Open","destructive":false}]',
    });
  });

  test('a collapse id becomes collapse_key and the notification tag', () => {
    const { android } = messageOf(buildFcmPayload(full).payload);

    expect(android.collapse_key).toBe('login-akadmin');
    expect(android.notification.tag).toBe('login-akadmin');
  });

  test('without a collapse id the tag is the notification id, so a clear can find it', () => {
    const { android } = messageOf(buildFcmPayload(notification()).payload);

    expect(android.collapse_key).toBeUndefined();
    expect(android.notification.tag).toBe(NOTIFICATION_ID);
  });

  test('a collapse id becomes collapse_key on a silent push too', () => {
    const { android } = messageOf(buildFcmPayload({ ...full, deliveryType: 'SILENT' }).payload);

    expect(android.collapse_key).toBe('login-akadmin');
  });

  test('an image is shown by the notification', () => {
    const message = messageOf(buildFcmPayload(full).payload);

    expect(message.notification.image).toBe('https://example.com/a.png');
  });
});

describe('buildFcmPayload, 4 KB budget', () => {
  test.each([
    ['ASCII', 'a'.repeat(20_000)],
    ['emoji (4-byte UTF-8)', '😀'.repeat(5_000)],
    ['CJK (3-byte UTF-8)', '漢'.repeat(7_000)],
    ['quotes and backslashes (doubled by JSON)', '"\\'.repeat(10_000)],
  ])('cuts a 20 kB %s body to fit the serialized GCM string, ending it with "…"', (_kind, body) => {
    const payload = buildFcmPayload(notification({ subtitle: 'akadmin', body }));
    const message = messageOf(payload.payload);

    expect(bytes(payload.payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
    expect(message.notification.body.endsWith('…')).toBe(true);
    expect(body.startsWith(message.notification.body.slice(0, -1))).toBe(true);
    expect(message.notification.title).toBe('New login');
    expect(message.data.subtitle).toBe('akadmin');
    expect(payload.truncated).toBe(true);
  });

  test('cuts the body of a data-only message', () => {
    const payload = buildFcmPayload(notification({ deliveryType: 'SILENT', body: 'x'.repeat(20_000) }));

    expect(bytes(payload.payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
    expect(messageOf(payload.payload).data.body).toMatch(/^x+…$/);
  });

  test('leaves a short notification whole', () => {
    const payload = buildFcmPayload(notification({ body: 'From 203.0.113.7' }));

    expect(payload.truncated).toBe(false);
    expect(messageOf(payload.payload).notification.body).toBe('From 203.0.113.7');
  });
});

describe('buildFcmPayload, NO_PUSH', () => {
  test('throws: a NO_PUSH notification is never pushed', () => {
    expect(() => buildFcmPayload(notification({ deliveryType: 'NO_PUSH' }))).toThrow(/NO_PUSH/);
  });
});
