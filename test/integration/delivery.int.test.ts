import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../../lambdas/core/concurrency';
import { deliverNotification, RetryableDeliveryError, type DeliveryDeps } from '../../lambdas/core/delivery';
import { registerDevice } from '../../lambdas/core/devices';
import { stampNotification, validateNotification, type Notification, type NotificationInput } from '../../lambdas/core/notification';
import { PushError, type PublishInput, type PushGateway } from '../../lambdas/core/push/gateway';
import { buildPublishInput } from '../../lambdas/core/push/publish-request';
import { getDevice, listDevices, putDevice, type Device } from '../../lambdas/core/store/devices';
import { listOutcomes } from '../../lambdas/core/store/outcomes';
import type { Store } from '../../lambdas/core/store/table';
import { createHarness } from './harness';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const ACCOUNT = '123456789012';
const endpointArn = (platform: 'APNS' | 'APNS_SANDBOX' | 'GCM', id: string) => `arn:aws:sns:us-east-1:${ACCOUNT}:endpoint/${platform}/herald/${id}`;

/**
 * Herald's push interface, recording every publish. `failWith` makes the publishes to an endpoint
 * fail (a PushError as SnsPushGateway throws, or any other error); `delayMs` keeps each in flight.
 */
class RecordingPushGateway implements PushGateway {
  readonly deletedEndpoints: string[] = [];

  async deleteEndpoint(endpointArn: string): Promise<void> {
    this.deletedEndpoints.push(endpointArn);
  }

  readonly published: PublishInput[] = [];
  readonly failWith = new Map<string, Error>();
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly delayMs = 0) {}

  async ensureEndpoint(platformApplicationArn: string, _token: string, knownEndpointArn?: string): Promise<string> {
    return knownEndpointArn ?? endpointArn(platformApplicationArn.split('/')[1] as 'APNS', randomUUID());
  }

  async publish(input: PublishInput): Promise<string> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      const failure = this.failWith.get(input.TargetArn);
      if (failure) throw failure;
      this.published.push(input);
      return `msg-${this.published.length}`;
    } finally {
      this.inFlight -= 1;
    }
  }

  publishedTo(): string[] {
    return this.published.map((input) => input.TargetArn).sort();
  }
}

let store: Store;

beforeAll(async () => {
  ({ store } = await createHarness());
});

/** Each test gets its own bucket id, so devices and outcomes of other tests never mix in. */
const newBucketId = () => randomUUID();

function notificationFor(bucketId: string, input: NotificationInput = { title: 'Failed login', body: 'jdoe from Berlin' }): Notification {
  return stampNotification(validateNotification(input), bucketId, 'native', NOW);
}

async function addDevice(bucketId: string, overrides: Partial<Device> & Pick<Device, 'platform'>): Promise<Device> {
  const id = overrides.id ?? randomUUID().replace(/-/g, '');
  const platformKey = overrides.platform === 'android' ? 'GCM' : overrides.environment === 'sandbox' ? 'APNS_SANDBOX' : 'APNS';
  const device: Device = {
    bucketId,
    id,
    environment: overrides.platform === 'ios' ? 'production' : undefined,
    endpointArn: endpointArn(platformKey, id),
    enabled: true,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    ...overrides,
  };
  await putDevice(store, device);
  return device;
}

function deliveryDeps(gateway: RecordingPushGateway, overrides: Partial<DeliveryDeps> = {}): DeliveryDeps {
  return { store, gateway, now: () => NOW, ...overrides };
}

async function deliveryFailure(promise: Promise<unknown>): Promise<RetryableDeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof RetryableDeliveryError)) throw new Error(`expected a RetryableDeliveryError, got ${String(error)}`);
  return error;
}

describe('deliverNotification, publishing', () => {
  test('publishes once per enabled device with the exact SNS Publish input', async () => {
    const bucketId = newBucketId();
    const iphone = await addDevice(bucketId, { platform: 'ios' });
    const pixel = await addDevice(bucketId, { platform: 'android' });
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();

    await deliverNotification(deliveryDeps(gateway), notification);

    const byTarget = new Map(gateway.published.map((input) => [input.TargetArn, input]));
    expect(gateway.published).toHaveLength(2);
    expect(byTarget.get(iphone.endpointArn!)).toStrictEqual(
      buildPublishInput(notification, { platform: 'ios', environment: 'production', endpointArn: iphone.endpointArn! }).input,
    );
    expect(byTarget.get(pixel.endpointArn!)).toStrictEqual(buildPublishInput(notification, { platform: 'android', endpointArn: pixel.endpointArn! }).input);
  });

  test('the Publish input is MessageStructure json with string values for default and the platform key', async () => {
    const bucketId = newBucketId();
    const iphone = await addDevice(bucketId, { platform: 'ios' });
    const pixel = await addDevice(bucketId, { platform: 'android' });
    const gateway = new RecordingPushGateway();

    await deliverNotification(deliveryDeps(gateway), notificationFor(bucketId));

    const ios = gateway.published.find((input) => input.TargetArn === iphone.endpointArn)!;
    const android = gateway.published.find((input) => input.TargetArn === pixel.endpointArn)!;
    expect(ios.MessageStructure).toBe('json');
    expect(android.MessageStructure).toBe('json');
    const iosMessage = JSON.parse(ios.Message) as Record<string, unknown>;
    const androidMessage = JSON.parse(android.Message) as Record<string, unknown>;
    expect(Object.keys(iosMessage)).toEqual(['default', 'APNS']);
    expect(Object.keys(androidMessage)).toEqual(['default', 'GCM']);
    expect(iosMessage.default).toBe('Failed login: jdoe from Berlin');
    expect(typeof iosMessage.APNS).toBe('string');
    expect(JSON.parse(iosMessage.APNS as string)).toMatchObject({ aps: { alert: { title: 'Failed login' } } });
    expect(typeof androidMessage.GCM).toBe('string');
    expect(ios.MessageAttributes).toMatchObject({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
    });
    expect(android.MessageAttributes).toHaveProperty(['AWS.SNS.MOBILE.FCM.TTL', 'DataType'], 'String');
  });

  test('reaches a sandbox iOS device through APNS_SANDBOX', async () => {
    const bucketId = newBucketId();
    await addDevice(bucketId, { platform: 'ios', environment: 'sandbox' });
    const gateway = new RecordingPushGateway();

    await deliverNotification(deliveryDeps(gateway), notificationFor(bucketId));

    expect(Object.keys(JSON.parse(gateway.published[0]!.Message))).toEqual(['default', 'APNS_SANDBOX']);
  });

  test('records a sent outcome per device, with the message id', async () => {
    const bucketId = newBucketId();
    const iphone = await addDevice(bucketId, { platform: 'ios' });
    const notification = notificationFor(bucketId);

    const report = await deliverNotification(deliveryDeps(new RecordingPushGateway()), notification);

    const expected = { deviceId: iphone.id, platform: 'APNS', status: 'sent', detail: 'msg-1', at: NOW.toISOString() };
    expect(report).toEqual({ outcomes: [expected], alreadyDone: 0, unknownRetried: 0, retry: [] });
    expect([...(await listOutcomes(store, notification.id)).values()]).toEqual([expected]);
  });

  test('delivers to a device registered through registerDevice', async () => {
    const bucketId = newBucketId();
    const gateway = new RecordingPushGateway();
    const { device } = await registerDevice(
      { store, gateway, platformApplications: { GCM: `arn:aws:sns:us-east-1:${ACCOUNT}:app/GCM/herald-fcm` } },
      bucketId,
      { platform: 'android', token: 'fcm-registration-token-0123456789' },
    );

    await deliverNotification(deliveryDeps(gateway), notificationFor(bucketId));

    expect(gateway.publishedTo()).toEqual([device.endpointArn]);
  });

  test('publishes nothing for a NO_PUSH notification and records nothing', async () => {
    const bucketId = newBucketId();
    await addDevice(bucketId, { platform: 'ios' });
    const notification = notificationFor(bucketId, { title: 'History only', deliveryType: 'NO_PUSH' });
    const gateway = new RecordingPushGateway();

    const report = await deliverNotification(deliveryDeps(gateway), notification);

    expect(gateway.published).toEqual([]);
    expect(report).toEqual({ outcomes: [], alreadyDone: 0, unknownRetried: 0, retry: [] });
    expect((await listOutcomes(store, notification.id)).size).toBe(0);
  });

  test('skips disabled devices', async () => {
    const bucketId = newBucketId();
    const enabled = await addDevice(bucketId, { platform: 'ios' });
    await addDevice(bucketId, { platform: 'android', enabled: false, disabledReason: 'EndpointDisabledException' });
    const gateway = new RecordingPushGateway();

    const report = await deliverNotification(deliveryDeps(gateway), notificationFor(bucketId));

    expect(gateway.publishedTo()).toEqual([enabled.endpointArn]);
    expect(report.outcomes.map((o) => o.deviceId)).toEqual([enabled.id]);
  });

  test('a device without an endpoint records platform_not_configured and is not published to', async () => {
    const bucketId = newBucketId();
    const device = await addDevice(bucketId, { platform: 'ios', environment: 'sandbox', endpointArn: undefined });
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();

    const report = await deliverNotification(deliveryDeps(gateway), notification);

    expect(gateway.published).toEqual([]);
    const expected = { deviceId: device.id, platform: 'APNS_SANDBOX', status: 'platform_not_configured', at: NOW.toISOString() };
    expect(report.outcomes).toEqual([expected]);
    expect((await listOutcomes(store, notification.id)).get(device.id)).toEqual(expected);
  });

  test('a bucket without devices delivers to nobody', async () => {
    const gateway = new RecordingPushGateway();

    expect(await deliverNotification(deliveryDeps(gateway), notificationFor(newBucketId()))).toEqual({ outcomes: [], alreadyDone: 0, unknownRetried: 0, retry: [] });
    expect(gateway.published).toEqual([]);
  });
});

describe('deliverNotification, failures', () => {
  test('a retryable failure throws RetryableDeliveryError listing the device, and keeps the other outcome', async () => {
    const bucketId = newBucketId();
    const failing = await addDevice(bucketId, { platform: 'ios' });
    const healthy = await addDevice(bucketId, { platform: 'android' });
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();
    gateway.failWith.set(failing.endpointArn!, new PushError('retryable', 'ThrottledException'));

    const error = await deliveryFailure(deliverNotification(deliveryDeps(gateway), notification));

    expect(error.message).toBe('1 device(s) to retry: ThrottledException');
    expect(error.report.retry).toEqual([{ deviceId: failing.id, platform: 'APNS', reason: 'ThrottledException' }]);
    expect(error.report.outcomes.map((o) => [o.deviceId, o.status])).toEqual([[healthy.id, 'sent']]);
    const recorded = await listOutcomes(store, notification.id);
    expect([...recorded.keys()]).toEqual([healthy.id]);
  });

  test('the retry publishes only to the device that failed', async () => {
    const bucketId = newBucketId();
    const failing = await addDevice(bucketId, { platform: 'ios' });
    const healthy = await addDevice(bucketId, { platform: 'android' });
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();
    gateway.failWith.set(failing.endpointArn!, new PushError('retryable', 'InternalErrorException'));
    await deliveryFailure(deliverNotification(deliveryDeps(gateway), notification));

    // SQS redelivers the message; the platform has recovered.
    gateway.failWith.clear();
    const report = await deliverNotification(deliveryDeps(gateway), notification);

    expect(gateway.publishedTo()).toEqual([failing.endpointArn, healthy.endpointArn].sort());
    expect(gateway.published.filter((input) => input.TargetArn === healthy.endpointArn)).toHaveLength(1);
    expect(report.alreadyDone).toBe(1);
    expect(report.outcomes.map((o) => [o.deviceId, o.status])).toEqual([[failing.id, 'sent']]);
    expect((await listOutcomes(store, notification.id)).size).toBe(2);
  });

  test('an error that is not a PushError is retried, not dropped', async () => {
    const bucketId = newBucketId();
    const device = await addDevice(bucketId, { platform: 'android' });
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();
    gateway.failWith.set(device.endpointArn!, Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));

    const error = await deliveryFailure(deliverNotification(deliveryDeps(gateway), notification));

    expect(error.report.retry).toEqual([{ deviceId: device.id, platform: 'GCM', reason: 'TimeoutError' }]);
    expect((await listOutcomes(store, notification.id)).size).toBe(0);
  });

  test('endpoint_disabled disables the device and records the outcome', async () => {
    const bucketId = newBucketId();
    const device = await addDevice(bucketId, { platform: 'ios' });
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();
    gateway.failWith.set(device.endpointArn!, new PushError('endpoint_disabled', 'EndpointDisabledException'));

    const report = await deliverNotification(deliveryDeps(gateway), notification);

    const expected = { deviceId: device.id, platform: 'APNS', status: 'endpoint_disabled', detail: 'EndpointDisabledException', at: NOW.toISOString() };
    expect(report).toEqual({ outcomes: [expected], alreadyDone: 0, unknownRetried: 0, retry: [] });
    expect((await listOutcomes(store, notification.id)).get(device.id)).toEqual(expected);
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: false, disabledReason: 'EndpointDisabledException' });
  });

  test('a device disabled by endpoint_disabled is skipped by later deliveries', async () => {
    const bucketId = newBucketId();
    const dead = await addDevice(bucketId, { platform: 'ios' });
    const alive = await addDevice(bucketId, { platform: 'android' });
    const gateway = new RecordingPushGateway();
    gateway.failWith.set(dead.endpointArn!, new PushError('endpoint_disabled', 'EndpointDisabledException'));
    await deliverNotification(deliveryDeps(gateway), notificationFor(bucketId));

    const later = new RecordingPushGateway();
    const report = await deliverNotification(deliveryDeps(later), notificationFor(bucketId, { title: 'Later' }));

    expect(later.publishedTo()).toEqual([alive.endpointArn]);
    expect(report.outcomes.map((o) => o.deviceId)).toEqual([alive.id]);
  });

  test('a permanent failure records failed and is not retried', async () => {
    const bucketId = newBucketId();
    const device = await addDevice(bucketId, { platform: 'android' });
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();
    gateway.failWith.set(device.endpointArn!, new PushError('permanent', 'InvalidParameterException'));

    const report = await deliverNotification(deliveryDeps(gateway), notification);
    const redelivered = await deliverNotification(deliveryDeps(gateway), notification);

    const expected = { deviceId: device.id, platform: 'GCM', status: 'failed', detail: 'InvalidParameterException', at: NOW.toISOString() };
    expect(report).toEqual({ outcomes: [expected], alreadyDone: 0, unknownRetried: 0, retry: [] });
    expect((await listOutcomes(store, notification.id)).get(device.id)).toEqual(expected);
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: true });
    // A duplicate delivery of the same message leaves the device alone.
    expect(redelivered).toEqual({ outcomes: [], alreadyDone: 1, unknownRetried: 0, retry: [] });
  });
});

describe('deliverNotification, many devices', () => {
  test('publishes to each of 1,200 devices (three pages of 500) exactly once', async () => {
    const bucketId = newBucketId();
    const devices = await mapWithConcurrency(
      Array.from({ length: 1200 }, (_, i) => i),
      32,
      (i) => addDevice(bucketId, { platform: i % 2 === 0 ? 'ios' : 'android' }),
    );
    const firstPage = await listDevices(store, bucketId);
    expect(firstPage.devices).toHaveLength(500);
    expect(firstPage.cursor).toBeDefined();
    const notification = notificationFor(bucketId);
    const gateway = new RecordingPushGateway();

    const report = await deliverNotification(deliveryDeps(gateway), notification);

    expect(gateway.published).toHaveLength(1200);
    expect(gateway.publishedTo()).toEqual(devices.map((device) => device.endpointArn).sort());
    expect(report.outcomes).toHaveLength(1200);
    expect((await listOutcomes(store, notification.id)).size).toBe(1200);
  });

  test('keeps at most `concurrency` publishes in flight', async () => {
    const bucketId = newBucketId();
    await mapWithConcurrency(Array.from({ length: 30 }, (_, i) => i), 16, () => addDevice(bucketId, { platform: 'android' }));
    const gateway = new RecordingPushGateway(2);

    await deliverNotification(deliveryDeps(gateway, { concurrency: 4 }), notificationFor(bucketId));

    expect(gateway.published).toHaveLength(30);
    expect(gateway.maxInFlight).toBe(4);
  });
});
