import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { handleManagementRequest, type ManagementDeps } from '../../lambdas/core/admin/router';
import { deliverNotification, type DeliveryDeps } from '../../lambdas/core/delivery';
import { isHeraldError } from '../../lambdas/core/errors';
import type { HttpRequest } from '../../lambdas/core/http';
import { stampNotification, validateNotification, type Notification, type NotificationInput } from '../../lambdas/core/notification';
import { buildPublishInput, type PushTarget } from '../../lambdas/core/push/publish-request';
import { SnsPushGateway } from '../../lambdas/core/push/sns-gateway';
import { createBucket, type Bucket } from '../../lambdas/core/store/buckets';
import { putDevice } from '../../lambdas/core/store/devices';
import { getHistory } from '../../lambdas/core/store/history';
import { createHarness, type Harness } from './harness';

/**
 * Quiet hours and snooze on the real store: set through the admin contract, then read by delivery,
 * whose Publish requests (SNS mocked at the SDK boundary) carry the passive presentation, and
 * whose history records how each notification was delivered.
 */
const sns = mockClient(SNSClient);
// Saturday 5 December 2026, 23:30 in Berlin (CET, UTC+1).
const BERLIN_NIGHT = new Date('2026-12-05T22:30:00.000Z');
const IOS: PushTarget = { platform: 'ios', environment: 'production', endpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/q1' };
const ANDROID: PushTarget = { platform: 'android', endpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/q2' };

let harness: Harness;
let management: ManagementDeps;

beforeAll(async () => {
  harness = await createHarness();
  management = { store: harness.store, now: () => BERLIN_NIGHT } as ManagementDeps;
});

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'sns-message-id' });
});

async function patch(bucket: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  return request('PATCH', `/admin/buckets/${bucket}`, body);
}

async function request(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const httpRequest: HttpRequest = { method, path, query: {}, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) };
  try {
    const response = (await handleManagementRequest(httpRequest, management, true))!;
    return { status: response.status, json: response.body ? JSON.parse(response.body) : {} };
  } catch (error) {
    if (!isHeraldError(error)) throw error;
    return { status: error.status, json: error.toJSON() };
  }
}

async function bucketWithDevices(name: string): Promise<Bucket> {
  const { bucket } = await createBucket(harness.store, { name });
  const now = BERLIN_NIGHT.toISOString();
  for (const [index, target] of [IOS, ANDROID].entries()) {
    await putDevice(harness.store, { bucketId: bucket.id, id: `${name}-device-${index}`, platform: target.platform, environment: target.environment, endpointArn: target.endpointArn, enabled: true, createdAt: now, updatedAt: now });
  }
  return bucket;
}

function notificationFor(bucket: Bucket, input: Partial<NotificationInput> = {}): Notification {
  return stampNotification(validateNotification({ title: 'Backup finished', body: 'nas-01', ...input }), bucket.id, 'native', BERLIN_NIGHT);
}

const deliveryDeps = (overrides: Partial<DeliveryDeps> = {}): DeliveryDeps => ({ store: harness.store, gateway: new SnsPushGateway(new SNSClient({})), now: () => BERLIN_NIGHT, ...overrides });
const published = () => sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
const publishedTo = (target: PushTarget) => published().find((input) => input.TargetArn === target.endpointArn)!;

describe('quiet settings through PATCH /admin/buckets/{bucket}', () => {
  test('are set, returned by GET, and cleared with null', async () => {
    await createBucket(harness.store, { name: 'quiet-settings' });

    const set = await patch('quiet-settings', {
      timeZone: 'Europe/Berlin',
      quietHours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '07:00' }, { days: ['sat', 'sun'], start: '23:00', end: '09:00' }],
      snoozeUntil: '2026-12-06T08:00:00+01:00',
    });
    const got = await request('GET', '/admin/buckets/quiet-settings');
    const cleared = await patch('quiet-settings', { timeZone: null, quietHours: null, snoozeUntil: null });

    expect(set.status).toBe(200);
    expect(got.json.bucket).toMatchObject({
      timeZone: 'Europe/Berlin',
      quietHours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '07:00' }, { days: ['sat', 'sun'], start: '23:00', end: '09:00' }],
      // Stored in one spelling, UTC.
      snoozeUntil: '2026-12-06T07:00:00.000Z',
    });
    expect(cleared.status).toBe(200);
    expect(cleared.json.bucket).not.toHaveProperty('timeZone');
    expect(cleared.json.bucket).not.toHaveProperty('quietHours');
    expect(cleared.json.bucket).not.toHaveProperty('snoozeUntil');
  });

  test.each([
    ['an unknown zone', { timeZone: 'Mars/Olympus_Mons' }, 'timeZone: must be an IANA time zone name'],
    ['a fixed offset', { timeZone: '+01:00' }, 'timeZone: must be an IANA time zone name'],
    ['hour 24', { quietHours: [{ days: ['mon'], start: '24:00', end: '07:00' }] }, 'quietHours.0.start: must be a wall-clock time HH:MM'],
    ['an unpadded time', { quietHours: [{ days: ['mon'], start: '22:00', end: '7:00' }] }, 'quietHours.0.end: must be a wall-clock time HH:MM'],
    ['an unknown day', { quietHours: [{ days: ['monday'], start: '22:00', end: '07:00' }] }, 'quietHours.0.days.0'],
    ['no days', { quietHours: [{ days: [], start: '22:00', end: '07:00' }] }, 'quietHours.0.days'],
    ['15 windows', { quietHours: Array.from({ length: 15 }, () => ({ days: ['mon'], start: '22:00', end: '07:00' })) }, 'quietHours:'],
    ['an unknown window field', { quietHours: [{ days: ['mon'], start: '22:00', end: '07:00', tz: 'UTC' }] }, 'tz: unknown field'],
    ['a snooze that is no time', { snoozeUntil: 'in two hours' }, 'snoozeUntil:'],
    ['a snooze without offset', { snoozeUntil: '2026-12-06 08:00' }, 'snoozeUntil:'],
  ])('%s is refused with 400 naming the field', async (_label, body, message) => {
    await createBucket(harness.store, { name: `quiet-bad-${Math.random().toString(36).slice(2, 8)}` }).then(async ({ bucket }) => {
      const refused = await patch(bucket.name, body);
      expect(refused.status).toBe(400);
      expect(refused.json.error).toBe('validation_failed');
      expect(refused.json.message).toContain(message);
    });
  });
});

describe('delivery in quiet hours', () => {
  test('NORMAL is published passive to every device, CRITICAL alerts; history records how', async () => {
    // GIVEN a bucket whose quiet hours (Berlin) cover now, and an iPhone and a Pixel
    const bucket = await bucketWithDevices('quiet-night');
    await patch(bucket.name, { timeZone: 'Europe/Berlin', quietHours: [{ days: ['sat'], start: '23:00', end: '07:00' }] });
    const normal = notificationFor(bucket, { sound: 'chime.caf' });
    const critical = notificationFor(bucket, { deliveryType: 'CRITICAL', title: 'Disk failing' });

    // WHEN
    await deliverNotification(deliveryDeps(), normal);
    const normalPublishes = published();
    sns.resetHistory();
    await deliverNotification(deliveryDeps(), critical);

    // THEN the NORMAL one is exactly the passive presentation, on both platforms
    expect(normalPublishes).toHaveLength(2);
    expect(normalPublishes.find((input) => input.TargetArn === IOS.endpointArn)).toEqual(buildPublishInput(normal, IOS, 'passive').input);
    expect(normalPublishes.find((input) => input.TargetArn === ANDROID.endpointArn)).toEqual(buildPublishInput(normal, ANDROID, 'passive').input);
    const apns = JSON.parse(JSON.parse(normalPublishes.find((input) => input.TargetArn === IOS.endpointArn)!.Message!).APNS);
    expect(apns.aps['interruption-level']).toBe('passive');
    expect(apns.aps).not.toHaveProperty('sound');
    // AND the CRITICAL one alerts as ever
    expect(publishedTo(IOS)).toEqual(buildPublishInput(critical, IOS).input);
    expect(publishedTo(ANDROID)).toEqual(buildPublishInput(critical, ANDROID).input);
    expect(JSON.parse(JSON.parse(publishedTo(IOS).Message!).APNS).aps).toMatchObject({ 'interruption-level': 'time-sensitive', sound: 'default' });
    // AND history says how each was delivered
    expect(await getHistory(harness.store, bucket.id, normal.id)).toMatchObject({ deliveredAs: 'passive', quietReason: 'quiet_hours', outcomes: { sent: 2 } });
    const criticalEntry = await getHistory(harness.store, bucket.id, critical.id);
    expect(criticalEntry).toMatchObject({ deliveredAs: 'alert', outcomes: { sent: 2 } });
    expect(criticalEntry).not.toHaveProperty('quietReason');
  });

  test('outside the window NORMAL alerts, and SILENT is recorded silent', async () => {
    const bucket = await bucketWithDevices('quiet-day');
    await patch(bucket.name, { timeZone: 'Europe/Berlin', quietHours: [{ days: ['sat'], start: '08:00', end: '18:00' }] });
    const normal = notificationFor(bucket);
    const silent = notificationFor(bucket, { deliveryType: 'SILENT' });

    await deliverNotification(deliveryDeps(), normal);
    await deliverNotification(deliveryDeps(), silent);

    expect(publishedTo(IOS)).toEqual(buildPublishInput(normal, IOS).input);
    expect(await getHistory(harness.store, bucket.id, normal.id)).toMatchObject({ deliveredAs: 'alert' });
    expect(await getHistory(harness.store, bucket.id, silent.id)).toMatchObject({ deliveredAs: 'silent' });
  });

  test('a snoozed bucket gets NORMAL passive until snoozeUntil, then alerting again', async () => {
    const bucket = await bucketWithDevices('quiet-snooze');
    await patch(bucket.name, { snoozeUntil: '2026-12-05T23:00:00Z' });
    const during = notificationFor(bucket);
    const after = notificationFor(bucket, { title: 'Later' });

    await deliverNotification(deliveryDeps(), during);
    const duringIos = publishedTo(IOS);
    sns.resetHistory();
    await deliverNotification(deliveryDeps({ now: () => new Date('2026-12-05T23:00:00.000Z') }), after);

    expect(duringIos).toEqual(buildPublishInput(during, IOS, 'passive').input);
    expect(publishedTo(IOS)).toEqual(buildPublishInput(after, IOS).input);
    expect(await getHistory(harness.store, bucket.id, during.id)).toMatchObject({ deliveredAs: 'passive', quietReason: 'snoozed' });
    expect(await getHistory(harness.store, bucket.id, after.id)).toMatchObject({ deliveredAs: 'alert' });
  });

  test('the presentation is decided once per notification: a later page keeps it after the window ends', async () => {
    // GIVEN a two-device bucket delivered one device per page, snoozed for the first page only
    const bucket = await bucketWithDevices('quiet-pages');
    await patch(bucket.name, { snoozeUntil: '2026-12-05T23:00:00Z' });
    const notification = notificationFor(bucket);
    const cursors: string[] = [];
    const paged = (now: Date) => deliveryDeps({ pageSize: 1, now: () => now, continueWith: async (_n, cursor) => void cursors.push(cursor) });

    // WHEN the first page runs in the snooze and the second after it, with the snooze ended early too
    await deliverNotification(paged(BERLIN_NIGHT), notification);
    await patch(bucket.name, { snoozeUntil: null });
    await deliverNotification(paged(new Date('2026-12-06T10:00:00Z')), notification, cursors[0]);

    // THEN both devices got the passive push, and history says passive once
    expect(published()).toHaveLength(2);
    expect(publishedTo(IOS)).toEqual(buildPublishInput(notification, IOS, 'passive').input);
    expect(publishedTo(ANDROID)).toEqual(buildPublishInput(notification, ANDROID, 'passive').input);
    expect(await getHistory(harness.store, bucket.id, notification.id)).toMatchObject({ deliveredAs: 'passive', quietReason: 'snoozed', outcomes: { sent: 2 } });
  });

  test('the admin API lists how each notification was delivered', async () => {
    const bucket = await bucketWithDevices('quiet-history');
    await patch(bucket.name, { snoozeUntil: '2026-12-06T00:00:00Z' });
    const notification = notificationFor(bucket);
    await deliverNotification(deliveryDeps(), notification);

    const listed = await request('GET', `/admin/buckets/${bucket.name}/notifications`);
    const detail = await request('GET', `/admin/buckets/${bucket.name}/notifications/${notification.id}`);

    expect(listed.json.notifications[0]).toMatchObject({ notification: { id: notification.id }, deliveredAs: 'passive', quietReason: 'snoozed' });
    expect(detail.json).toMatchObject({ deliveredAs: 'passive', quietReason: 'snoozed' });
  });
});
