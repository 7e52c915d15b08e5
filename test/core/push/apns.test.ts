import type { Notification } from '../../../lambdas/core/notification';
import { APNS_ACTIONS_CATEGORY, buildApnsPayload } from '../../../lambdas/core/push/apns';
import { PUSH_PAYLOAD_LIMIT_BYTES } from '../../../lambdas/core/push/budget';

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

function parse(payload: string) {
  return JSON.parse(payload);
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('buildApnsPayload, NORMAL', () => {
  test('builds an active alert with the default sound, threaded by group', () => {
    const payload = buildApnsPayload(
      notification({ subtitle: 'akadmin', body: 'From 203.0.113.7', groupId: 'logins' }),
      'production',
    );

    expect(parse(payload.payload).aps).toEqual({
      alert: { title: 'New login', subtitle: 'akadmin', body: 'From 203.0.113.7' },
      sound: 'default',
      'thread-id': 'logins',
      'interruption-level': 'active',
    });
  });

  test('sets exactly push type alert, priority 10 and the production TTL', () => {
    const payload = buildApnsPayload(notification(), 'production');

    expect(payload.attributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
      'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
    });
  });

  test('uses the APNS key in production', () => {
    expect(buildApnsPayload(notification(), 'production').key).toBe('APNS');
  });

  test('falls back to the bucket for thread-id without a group', () => {
    const { aps } = parse(buildApnsPayload(notification(), 'production').payload);

    expect(aps['thread-id']).toBe(BUCKET_ID);
  });

  test("plays the notification's own sound when it names one", () => {
    const { aps } = parse(buildApnsPayload(notification({ sound: 'chime.caf' }), 'production').payload);

    expect(aps.sound).toBe('chime.caf');
  });

  test('leaves subtitle and body out of the alert when absent or empty', () => {
    const { aps } = parse(buildApnsPayload(notification({ subtitle: '', body: undefined }), 'production').payload);

    expect(aps.alert).toEqual({ title: 'New login' });
  });
});

describe('buildApnsPayload, CRITICAL', () => {
  test('builds a time-sensitive alert that always has a sound', () => {
    const { aps } = parse(buildApnsPayload(notification({ deliveryType: 'CRITICAL' }), 'production').payload);

    expect(aps['interruption-level']).toBe('time-sensitive');
    expect(aps.sound).toBe('default');
  });

  test('sets exactly push type alert, priority 10 and the TTL', () => {
    const payload = buildApnsPayload(notification({ deliveryType: 'CRITICAL' }), 'production');

    expect(payload.attributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
      'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
    });
  });
});

describe('buildApnsPayload, SILENT', () => {
  const silent = notification({
    deliveryType: 'SILENT',
    subtitle: 'akadmin',
    body: 'Token rotated',
    sound: 'chime.caf',
    imageUrl: 'https://example.com/a.png',
    actions: [{ type: 'MARK_AS_READ' }],
  });

  test('sends a background push: content-available and nothing else in aps', () => {
    const { aps } = parse(buildApnsPayload(silent, 'production').payload);

    expect(aps).toEqual({ 'content-available': 1 });
  });

  test('sets exactly push type background, priority 5 and the TTL', () => {
    expect(buildApnsPayload(silent, 'production').attributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'background' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '5' },
      'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
    });
  });

  test('carries the texts in herald for the app', () => {
    const { herald } = parse(buildApnsPayload(silent, 'production').payload);

    expect(herald).toMatchObject({ title: 'New login', subtitle: 'akadmin', body: 'Token rotated' });
  });
});

describe('buildApnsPayload, sandbox', () => {
  test('uses the APNS_SANDBOX key', () => {
    expect(buildApnsPayload(notification(), 'sandbox').key).toBe('APNS_SANDBOX');
  });

  test('sets the sandbox TTL attribute instead of the production one', () => {
    const payload = buildApnsPayload(notification(), 'sandbox');

    expect(payload.attributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
      'AWS.SNS.MOBILE.APNS_SANDBOX.TTL': { DataType: 'String', StringValue: '86400' },
    });
  });
});

describe('buildApnsPayload, optional content', () => {
  test('an image sets mutable-content so the service extension can attach it', () => {
    const { aps, herald } = parse(
      buildApnsPayload(notification({ imageUrl: 'https://example.com/a.png' }), 'production').payload,
    );

    expect(aps['mutable-content']).toBe(1);
    expect(herald.imageUrl).toBe('https://example.com/a.png');
  });

  test('actions set the Herald category and travel in herald', () => {
    const actions = [{ type: 'NAVIGATE' as const, value: 'https://example.com', title: 'Open' }];
    const { aps, herald } = parse(buildApnsPayload(notification({ actions }), 'production').payload);

    expect(aps.category).toBe(APNS_ACTIONS_CATEGORY);
    expect(herald.actions).toEqual(actions);
  });

  test('a collapse id becomes the apns-collapse-id attribute', () => {
    const payload = buildApnsPayload(notification({ collapseId: 'login-akadmin' }), 'production');

    expect(payload.attributes['AWS.SNS.MOBILE.APNS.COLLAPSE_ID']).toEqual({
      DataType: 'String',
      StringValue: 'login-akadmin',
    });
  });

  test('herald holds every custom field the notification has', () => {
    const full = notification({
      tapUrl: 'https://idp.example.com/if/admin/',
      imageUrl: 'https://example.com/a.png',
      actions: [{ type: 'MARK_AS_READ' }],
      tags: ['security', 'login'],
      collapseId: 'login-akadmin',
      groupId: 'logins',
    });

    expect(parse(buildApnsPayload(full, 'production').payload).herald).toEqual({
      id: NOTIFICATION_ID,
      bucketId: BUCKET_ID,
      deliveryType: 'NORMAL',
      tapUrl: 'https://idp.example.com/if/admin/',
      imageUrl: 'https://example.com/a.png',
      actions: [{ type: 'MARK_AS_READ' }],
      tags: ['security', 'login'],
      collapseId: 'login-akadmin',
      groupId: 'logins',
      source: 'authentik',
    });
  });

  test('herald leaves out the fields the notification lacks', () => {
    expect(parse(buildApnsPayload(notification(), 'production').payload).herald).toEqual({
      id: NOTIFICATION_ID,
      bucketId: BUCKET_ID,
      deliveryType: 'NORMAL',
      source: 'authentik',
    });
  });

  test('every attribute is a String attribute', () => {
    const payload = buildApnsPayload(notification({ collapseId: 'c' }), 'sandbox');

    for (const attribute of Object.values(payload.attributes)) {
      expect(attribute).toEqual({ DataType: 'String', StringValue: expect.any(String) });
    }
  });
});

describe('buildApnsPayload, 4 KB budget', () => {
  test.each([
    ['ASCII', 'a'.repeat(20_000)],
    ['emoji (4-byte UTF-8)', '😀'.repeat(5_000)],
    ['CJK (3-byte UTF-8)', '漢'.repeat(7_000)],
    ['quotes and backslashes (doubled by JSON)', '"\\'.repeat(10_000)],
  ])('cuts a 20 kB %s body to fit, ending it with "…"', (_kind, body) => {
    const payload = buildApnsPayload(notification({ subtitle: 'akadmin', body }), 'production');
    const { aps } = parse(payload.payload);

    expect(bytes(payload.payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
    expect(aps.alert.body.endsWith('…')).toBe(true);
    expect(body.startsWith(aps.alert.body.slice(0, -1))).toBe(true);
    expect(aps.alert).toMatchObject({ title: 'New login', subtitle: 'akadmin' });
    expect(payload.truncated).toBe(true);
  });

  test('never splits a surrogate pair when cutting', () => {
    const payload = buildApnsPayload(notification({ body: '😀'.repeat(5_000) }), 'production');

    expect(parse(payload.payload).aps.alert.body).not.toMatch(LONE_SURROGATE);
  });

  test('cuts the body of a silent push in herald', () => {
    const payload = buildApnsPayload(notification({ deliveryType: 'SILENT', body: 'x'.repeat(20_000) }), 'sandbox');

    expect(bytes(payload.payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
    expect(parse(payload.payload).herald.body).toMatch(/^x+…$/);
  });

  test('leaves a short notification whole', () => {
    const payload = buildApnsPayload(notification({ body: 'From 203.0.113.7' }), 'production');

    expect(payload.truncated).toBe(false);
    expect(parse(payload.payload).aps.alert.body).toBe('From 203.0.113.7');
  });

  test('drops tags and actions only when the texts alone cannot make it fit', () => {
    const actions = Array.from({ length: 10 }, (_, index) => ({
      type: 'NAVIGATE' as const,
      value: `https://example.com/${index}/${'p'.repeat(1_900)}`,
    }));
    const payload = buildApnsPayload(
      notification({ body: 'b'.repeat(2_000), actions, tags: ['security'] }),
      'production',
    );
    const { aps, herald } = parse(payload.payload);

    expect(bytes(payload.payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
    expect(herald.actions).toBeUndefined();
    expect(herald.tags).toBeUndefined();
    expect(aps.category).toBeUndefined();
    expect(aps.alert.body).toBe('b'.repeat(2_000)); // the room the drops freed goes to the body
  });
});

describe('buildApnsPayload, NO_PUSH', () => {
  test('throws: a NO_PUSH notification is never pushed', () => {
    expect(() => buildApnsPayload(notification({ deliveryType: 'NO_PUSH' }), 'production')).toThrow(/NO_PUSH/);
  });
});
