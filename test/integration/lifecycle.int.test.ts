import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { deliverNotification, RetryableDeliveryError } from '../../lambdas/core/delivery';
import { refreshDevice, registerDevice, type DeviceDeps } from '../../lambdas/core/devices';
import { applyPlatformEvent, ENDPOINT_DELETED_REASON, type PlatformEvent } from '../../lambdas/core/feedback';
import { pruneDisabledDevices } from '../../lambdas/core/maintenance';
import { stampNotification, validateNotification, type Notification } from '../../lambdas/core/notification';
import type { PublishInput, PushGateway } from '../../lambdas/core/push/gateway';
import { classifyPublishError } from '../../lambdas/core/push/sns-gateway';
import { createBucket } from '../../lambdas/core/store/buckets';
import { disableDevice, findDeviceByToken, findDevicesByEndpoint, getDevice, putDevice, type Device } from '../../lambdas/core/store/devices';
import { listOutcomes } from '../../lambdas/core/store/outcomes';
import type { Store } from '../../lambdas/core/store/table';
import { createDeliveryHandler } from '../../lambdas/delivery';
import { createFeedbackHandler } from '../../lambdas/feedback';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { createMaintenanceHandler } from '../../lambdas/maintenance';
import { metrics } from '../../lambdas/observability';
import { createHarness } from './harness';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2025-06-01T12:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);
const APPS = {
  APNS: 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns',
  GCM: 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm',
};

/**
 * Herald's push interface, recording endpoint deletions and publishes. Endpoints are derived from
 * the token (as SNS returns the same endpoint for the same token), so two buckets registering one
 * token share an endpoint. `failWith` makes publishes to an endpoint fail as SnsPushGateway would.
 */
class RecordingPushGateway implements PushGateway {
  readonly deletedEndpoints: string[] = [];
  readonly published: PublishInput[] = [];
  readonly ensured: { token: string; knownEndpointArn?: string }[] = [];
  readonly failWith = new Map<string, Error>();
  readonly failDeleteOf = new Set<string>();

  async ensureEndpoint(platformApplicationArn: string, token: string, knownEndpointArn?: string): Promise<string> {
    this.ensured.push({ token, knownEndpointArn });
    return knownEndpointArn ?? `${platformApplicationArn.replace(':app/', ':endpoint/')}/${token.slice(-8)}`;
  }

  async publish(input: PublishInput): Promise<string> {
    const failure = this.failWith.get(input.TargetArn);
    if (failure) throw failure;
    this.published.push(input);
    return `msg-${this.published.length}`;
  }

  async deleteEndpoint(endpointArn: string): Promise<void> {
    if (this.failDeleteOf.has(endpointArn)) throw Object.assign(new Error('SNS unavailable'), { name: 'InternalErrorException' });
    this.deletedEndpoints.push(endpointArn);
  }
}

let store: Store;

beforeAll(async () => {
  // Its own table: pruning reads every bucket in it.
  ({ store } = await createHarness());
});

async function newBucket(): Promise<string> {
  return (await createBucket(store, { name: `lifecycle-${randomUUID().slice(0, 8)}` })).bucket.id;
}

/** Registers a device (at `at`) through the real registration path, then disables it at `disabledAt`. */
async function addDevice(gateway: PushGateway, bucketId: string, options: { at?: Date; disabledAt?: Date; platform?: 'ios' | 'android'; token?: string } = {}): Promise<Device> {
  const deps: DeviceDeps = { store, gateway, platformApplications: APPS, now: () => options.at ?? daysAgo(100) };
  const token = options.token ?? `device-token-${randomUUID()}`;
  const { device } = await registerDevice(deps, bucketId, { platform: options.platform ?? 'android', token });
  if (options.disabledAt) await disableDevice(store, bucketId, device.id, 'EndpointDisabledException', options.disabledAt);
  return (await getDevice(store, bucketId, device.id))!;
}

function notificationFor(bucketId: string): Notification {
  return stampNotification(validateNotification({ title: 'Failed login', body: 'jdoe from Berlin' }), bucketId, 'native', NOW);
}

function sqsRecord(body: string): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: 'receipt',
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(NOW.getTime()), SenderId: 'sender', ApproximateFirstReceiveTimestamp: String(NOW.getTime()) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:herald-queue',
    awsRegion: 'us-east-1',
  };
}

/** Every single-metric EMF line a handler emits while `run` runs: name, value and dimensions. */
async function capturingMetrics<T>(run: () => Promise<T>): Promise<{ result: T; emitted: { name: string; value: number; dimensions: Record<string, string> }[] }> {
  const emitted: { name: string; value: number; dimensions: Record<string, string> }[] = [];
  const spy = jest.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    const single = {
      addDimension: (name: string, value: string) => {
        dimensions[name] = value;
        return single;
      },
      addMetric: (name: string, _unit: unknown, value: number) => {
        emitted.push({ name, value, dimensions });
        return single;
      },
    };
    return single as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  try {
    return { result: await run(), emitted };
  } finally {
    spy.mockRestore();
  }
}

describe('pruneDisabledDevices, on the real store', () => {
  test('deletes devices disabled for more than 30 days with their endpoints, and keeps recent disabled and enabled ones', async () => {
    // GIVEN
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const otherBucketId = await newBucket();
    const oldDisabled = await addDevice(gateway, bucketId, { disabledAt: daysAgo(31) });
    const oldDisabledIos = await addDevice(gateway, otherBucketId, { platform: 'ios', disabledAt: daysAgo(45) });
    const recentDisabled = await addDevice(gateway, bucketId, { disabledAt: daysAgo(29) });
    const enabled = await addDevice(gateway, bucketId, { at: daysAgo(400) });

    // WHEN
    const report = await pruneDisabledDevices({ store, gateway, now: () => NOW });

    // THEN
    expect(gateway.deletedEndpoints.sort()).toEqual([oldDisabled.endpointArn, oldDisabledIos.endpointArn].sort());
    expect(await getDevice(store, bucketId, oldDisabled.id)).toBeUndefined();
    expect(await getDevice(store, otherBucketId, oldDisabledIos.id)).toBeUndefined();
    expect(await getDevice(store, bucketId, recentDisabled.id)).toMatchObject({ enabled: false });
    expect(await getDevice(store, bucketId, enabled.id)).toMatchObject({ enabled: true });
    expect(report).toMatchObject({ pruned: 2, failures: [] });
    expect(report.devices).toBeGreaterThanOrEqual(4);
  });

  test('removes the pruned device\'s token alias and endpoint lookup with it', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const pruned = await addDevice(gateway, bucketId, { token: 'fcm-token-pruned-00000001', disabledAt: daysAgo(60) });

    await pruneDisabledDevices({ store, gateway, now: () => NOW });

    expect(await findDeviceByToken(store, bucketId, pruned.tokenKey!)).toBeUndefined();
    expect(await findDevicesByEndpoint(store, pruned.endpointArn!)).toEqual([]);
  });

  test('olderThanDays sets the cutoff', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const disabledTenDaysAgo = await addDevice(gateway, bucketId, { disabledAt: daysAgo(10) });

    await pruneDisabledDevices({ store, gateway, now: () => NOW }, { olderThanDays: 7 });

    expect(gateway.deletedEndpoints).toContain(disabledTenDaysAgo.endpointArn);
    expect(await getDevice(store, bucketId, disabledTenDaysAgo.id)).toBeUndefined();
  });

  test('a device without an endpoint (platform not configured) is deleted without an SNS call', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device: Device = { bucketId, id: randomUUID().replace(/-/g, ''), platform: 'android', enabled: false, disabledReason: 'disabled by operator', createdAt: daysAgo(90).toISOString(), updatedAt: daysAgo(90).toISOString() };
    await putDevice(store, device);

    await pruneDisabledDevices({ store, gateway, now: () => NOW });

    expect(await getDevice(store, bucketId, device.id)).toBeUndefined();
  });

  test('a device whose endpoint cannot be deleted is kept and reported; the others are pruned', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const stuck = await addDevice(gateway, bucketId, { disabledAt: daysAgo(40) });
    const prunable = await addDevice(gateway, bucketId, { disabledAt: daysAgo(40) });
    gateway.failDeleteOf.add(stuck.endpointArn!);

    const report = await pruneDisabledDevices({ store, gateway, now: () => NOW });

    expect(report.failures).toEqual([{ bucketId, deviceId: stuck.id, reason: 'InternalErrorException' }]);
    expect(await getDevice(store, bucketId, stuck.id)).toMatchObject({ enabled: false });
    expect(await getDevice(store, bucketId, prunable.id)).toBeUndefined();
  });

  test('a second run finds nothing more to prune', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    await addDevice(gateway, bucketId, { disabledAt: daysAgo(40) });
    await pruneDisabledDevices({ store, gateway, now: () => NOW });

    const again = await pruneDisabledDevices({ store, gateway: new RecordingPushGateway(), now: () => NOW });

    expect(again.pruned).toBe(0);
  });

  test('refuses a cutoff below one day', async () => {
    await expect(pruneDisabledDevices({ store, gateway: new RecordingPushGateway() }, { olderThanDays: 0 })).rejects.toThrow('olderThanDays must be at least 1 (given 0)');
  });
});

describe('pruning at the SNS SDK boundary', () => {
  test('calls SNS DeleteEndpoint for the old disabled device only', async () => {
    const { mockClient } = await import('aws-sdk-client-mock');
    const { SNSClient, CreatePlatformEndpointCommand, GetEndpointAttributesCommand, DeleteEndpointCommand } = await import('@aws-sdk/client-sns');
    const { SnsPushGateway } = await import('../../lambdas/core/push/sns-gateway');
    const sns = mockClient(SNSClient);
    try {
      sns.on(CreatePlatformEndpointCommand).callsFake((input: { Token: string }) => ({ EndpointArn: `arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/${input.Token.slice(-4)}` }));
      sns.on(GetEndpointAttributesCommand).callsFake((input: { EndpointArn: string }) => ({ Attributes: { Enabled: 'true', Token: `fcm-token-sdk-${input.EndpointArn.slice(-4)}` } }));
      sns.on(DeleteEndpointCommand).resolves({});
      const gateway = new SnsPushGateway(new SNSClient({ region: 'us-east-1' }));
      const bucketId = await newBucket();
      const old = await addDevice(gateway, bucketId, { token: 'fcm-token-sdk-0001', disabledAt: daysAgo(31) });
      const recent = await addDevice(gateway, bucketId, { token: 'fcm-token-sdk-0002', disabledAt: daysAgo(3) });
      const enabled = await addDevice(gateway, bucketId, { token: 'fcm-token-sdk-0003', at: daysAgo(90) });

      await pruneDisabledDevices({ store, gateway, now: () => NOW });

      expect(sns.commandCalls(DeleteEndpointCommand).map((call) => call.args[0].input.EndpointArn)).toEqual(['arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/0001']);
      expect(await getDevice(store, bucketId, old.id)).toBeUndefined();
      expect(await getDevice(store, bucketId, recent.id)).toBeDefined();
      expect(await getDevice(store, bucketId, enabled.id)).toBeDefined();
    } finally {
      sns.restore();
    }
  });
});

describe('the maintenance handler', () => {
  test('prunes with PRUNE_AFTER_DAYS and counts DevicesPruned', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { disabledAt: new Date(Date.now() - 3 * DAY) });
    const previous = process.env.PRUNE_AFTER_DAYS;
    process.env.PRUNE_AFTER_DAYS = '2';
    try {
      const handler = createMaintenanceHandler({ store, gateway });
      const { result, emitted } = await capturingMetrics(() => handler({} as never, lambdaContext('herald-maintenance', 300_000)));

      expect(result).toMatchObject({ failures: 0 });
      expect(result.pruned).toBeGreaterThanOrEqual(1);
      expect(gateway.deletedEndpoints).toContain(device.endpointArn);
      expect(emitted).toContainEqual({ name: 'DevicesPruned', value: result.pruned, dimensions: {} });
    } finally {
      if (previous === undefined) delete process.env.PRUNE_AFTER_DAYS;
      else process.env.PRUNE_AFTER_DAYS = previous;
    }
  });

  test('fails the run when a device could not be pruned, so EventBridge retries it and the Errors alarm sees it', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const stuck = await addDevice(gateway, bucketId, { disabledAt: daysAgo(400) });
    gateway.failDeleteOf.add(stuck.endpointArn!);
    const handler = createMaintenanceHandler({ store, gateway, pruneAfterDays: 30 });

    await expect(handler({} as never, lambdaContext('herald-maintenance', 300_000))).rejects.toThrow(/could not be pruned: InternalErrorException/);
    gateway.failDeleteOf.clear();
    await pruneDisabledDevices({ store, gateway });
  });
});

describe('endpoint disabled, then a token refresh', () => {
  test('EndpointDisabled disables the device; refreshing its token re-enables it and it is delivered to again', async () => {
    // GIVEN a device whose provider rejected the token
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: daysAgo(1) });
    gateway.failWith.set(device.endpointArn!, classifyPublishError(Object.assign(new Error('Endpoint is disabled'), { name: 'EndpointDisabledException', $metadata: { httpStatusCode: 400 } })));
    await deliverNotification({ store, gateway, now: () => NOW }, notificationFor(bucketId));
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: false, disabledReason: 'EndpointDisabledException' });

    // WHEN the app refreshes its token
    gateway.failWith.clear();
    const refreshed = await refreshDevice({ store, gateway, platformApplications: APPS, now: () => NOW }, bucketId, device.id, 'fcm-token-refreshed-0001');

    // THEN the endpoint is repaired with the new token, and the device is enabled and served again
    expect(gateway.ensured.at(-1)).toEqual({ token: 'fcm-token-refreshed-0001', knownEndpointArn: device.endpointArn });
    expect(refreshed).toMatchObject({ id: device.id, enabled: true });
    const stored = await getDevice(store, bucketId, device.id);
    expect(stored).toMatchObject({ enabled: true, updatedAt: NOW.toISOString() });
    expect(stored!.disabledReason).toBeUndefined();
    await deliverNotification({ store, gateway, now: () => NOW }, notificationFor(bucketId));
    expect(gateway.published.map((input) => input.TargetArn)).toEqual([device.endpointArn]);
  });

  test('a refreshed device is not pruned, however long it was disabled before', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { disabledAt: daysAgo(60) });
    await refreshDevice({ store, gateway, platformApplications: APPS, now: () => daysAgo(1) }, bucketId, device.id, 'fcm-token-refreshed-0002');

    await pruneDisabledDevices({ store, gateway, now: () => NOW });

    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: true });
    expect(gateway.deletedEndpoints).not.toContain(device.endpointArn);
  });
});

describe('PlatformApplicationDisabled', () => {
  const platformApplicationDisabled = () =>
    classifyPublishError(Object.assign(new Error('Platform application is disabled'), { name: 'PlatformApplicationDisabledException', $metadata: { httpStatusCode: 400 } }));

  test('keeps the notification for retry: RetryableDeliveryError, no outcome, the claim released', async () => {
    // GIVEN a platform whose credentials the provider rejects
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: daysAgo(1) });
    gateway.failWith.set(device.endpointArn!, platformApplicationDisabled());
    const notification = notificationFor(bucketId);

    // WHEN
    const error = await deliverNotification({ store, gateway, now: () => NOW }, notification).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    // THEN the device waits for a retry, nothing is final, and the device stays enabled
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect((error as RetryableDeliveryError).report.retry).toEqual([{ deviceId: device.id, platform: 'GCM', reason: 'PlatformApplicationDisabledException' }]);
    expect((await listOutcomes(store, notification.id)).size).toBe(0);
    const claim = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: { pk: `NOTIF#${notification.id}`, sk: `DEVICE#${device.id}` }, ConsistentRead: true }));
    expect(claim.Item).toBeUndefined();
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: true });

    // AND once the credentials are fixed, the retry delivers it, once
    gateway.failWith.clear();
    await deliverNotification({ store, gateway, now: () => NOW }, notification);
    expect(gateway.published.map((input) => input.TargetArn)).toEqual([device.endpointArn]);
    expect([...(await listOutcomes(store, notification.id)).values()].map((outcome) => outcome.status)).toEqual(['sent']);
  });

  test('the delivery handler reports the message for redelivery and counts PlatformApplicationDisabled per platform', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const android = await addDevice(gateway, bucketId, { at: daysAgo(1) });
    const iphone = await addDevice(gateway, bucketId, { at: daysAgo(1), platform: 'ios' });
    gateway.failWith.set(android.endpointArn!, platformApplicationDisabled());
    const record = sqsRecord(JSON.stringify({ notification: notificationFor(bucketId) }));
    const handler = createDeliveryHandler({ store, gateway, now: () => NOW });

    const { result, emitted } = await capturingMetrics(() => handler({ Records: [record] } as SQSEvent, lambdaContext('herald-delivery', 60_000)));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(emitted).toContainEqual({ name: 'PlatformApplicationDisabled', value: 1, dimensions: { platform: 'GCM' } });
    expect(emitted.filter((metric) => metric.name === 'PlatformApplicationDisabled')).toHaveLength(1);
    expect(gateway.published.map((input) => input.TargetArn)).toEqual([iphone.endpointArn]);
  });
});

describe('delivery feedback, on the real store', () => {
  const event = (overrides: Partial<PlatformEvent> & Pick<PlatformEvent, 'endpointArn'>): PlatformEvent => ({ eventType: 'DeliveryFailure', failureType: 'InvalidPlatformToken', time: NOW, ...overrides });

  test('DeliveryFailure with a dead token disables the device, with the failure type as the reason', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: daysAgo(2) });

    const result = await applyPlatformEvent({ store, now: () => NOW }, event({ endpointArn: device.endpointArn!, failureType: 'EndpointDisabled' }));

    expect(result).toEqual({ devicesMatched: 1, devicesDisabled: 1, staleLookups: 0 });
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: false, disabledReason: 'EndpointDisabled', updatedAt: NOW.toISOString() });
  });

  test('EndpointDeleted disables the device as "endpoint deleted"', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: daysAgo(2) });

    await applyPlatformEvent({ store, now: () => NOW }, { eventType: 'EndpointDeleted', endpointArn: device.endpointArn!, time: NOW });

    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: false, disabledReason: ENDPOINT_DELETED_REASON });
  });

  test('one endpoint registered in two buckets disables both devices', async () => {
    const gateway = new RecordingPushGateway();
    const [first, second] = [await newBucket(), await newBucket()];
    const inFirst = await addDevice(gateway, first, { token: 'fcm-token-shared-00000001', at: daysAgo(2) });
    const inSecond = await addDevice(gateway, second, { token: 'fcm-token-shared-00000001', at: daysAgo(2) });
    expect(inFirst.endpointArn).toBe(inSecond.endpointArn);

    const result = await applyPlatformEvent({ store, now: () => NOW }, event({ endpointArn: inFirst.endpointArn! }));

    expect(result.devicesDisabled).toBe(2);
    expect(await getDevice(store, first, inFirst.id)).toMatchObject({ enabled: false });
    expect(await getDevice(store, second, inSecond.id)).toMatchObject({ enabled: false });
  });

  test('a failure that is not a dead token leaves the device enabled', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: daysAgo(2) });

    const result = await applyPlatformEvent({ store, now: () => NOW }, event({ endpointArn: device.endpointArn!, failureType: 'PayloadTooLarge' }));

    expect(result).toEqual({ devicesMatched: 1, devicesDisabled: 0, staleLookups: 0 });
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: true });
  });

  test('an event older than the device\'s last update (a token refresh since) changes nothing', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: NOW });

    const result = await applyPlatformEvent({ store, now: () => NOW }, event({ endpointArn: device.endpointArn!, time: daysAgo(1) }));

    expect(result.devicesDisabled).toBe(0);
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: true });
  });

  test('a device already disabled keeps its reason and date (its pruning clock is not reset)', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { disabledAt: daysAgo(20) });

    await applyPlatformEvent({ store, now: () => NOW }, { eventType: 'EndpointDeleted', endpointArn: device.endpointArn!, time: NOW });

    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: false, disabledReason: 'EndpointDisabledException', updatedAt: daysAgo(20).toISOString() });
  });

  test('a redelivered event changes nothing more', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: daysAgo(2) });
    const failure = event({ endpointArn: device.endpointArn! });
    await applyPlatformEvent({ store, now: () => NOW }, failure);

    const again = await applyPlatformEvent({ store, now: () => new Date(NOW.getTime() + 60_000) }, failure);

    expect(again).toEqual({ devicesMatched: 1, devicesDisabled: 0, staleLookups: 0 });
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ updatedAt: NOW.toISOString() });
  });

  test('an endpoint Herald does not know matches no device', async () => {
    const result = await applyPlatformEvent({ store }, event({ endpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/unknown0' }));

    expect(result).toEqual({ devicesMatched: 0, devicesDisabled: 0, staleLookups: 0 });
  });

  test('a lookup left by a device that moved to another endpoint is removed, and the device is untouched', async () => {
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const device = await addDevice(gateway, bucketId, { at: daysAgo(2) });
    const oldEndpointArn = device.endpointArn!;
    await putDevice(store, { ...device, endpointArn: `${APPS.GCM.replace(':app/', ':endpoint/')}/moved000`, updatedAt: daysAgo(1).toISOString() });

    const result = await applyPlatformEvent({ store, now: () => NOW }, event({ endpointArn: oldEndpointArn }));

    expect(result).toEqual({ devicesMatched: 0, devicesDisabled: 0, staleLookups: 1 });
    expect(await findDevicesByEndpoint(store, oldEndpointArn)).toEqual([]);
    expect(await getDevice(store, bucketId, device.id)).toMatchObject({ enabled: true });
  });
});

describe('the feedback handler', () => {
  test('applies DeliveryFailure and EndpointDeleted events from the queue, counts PushFeedback, and drops what is no event', async () => {
    // GIVEN
    const gateway = new RecordingPushGateway();
    const bucketId = await newBucket();
    const deadToken = await addDevice(gateway, bucketId, { at: daysAgo(2) });
    const deleted = await addDevice(gateway, bucketId, { at: daysAgo(2), platform: 'ios' });
    const records = [
      // raw message delivery: the event JSON itself
      sqsRecord(JSON.stringify({ DeliveryAttempts: 1, EndpointArn: deadToken.endpointArn, EventType: 'DeliveryFailure', FailureMessage: 'Platform token associated with the endpoint is not valid', FailureType: 'InvalidPlatformToken', MessageId: 'dd686e01-3f8f-56f7-9683-348cb97d649a', Resource: APPS.GCM, Service: 'SNS', Time: NOW.toISOString() })),
      // SNS's envelope around it
      sqsRecord(JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ EventType: 'EndpointDeleted', EndpointArn: deleted.endpointArn, Resource: APPS.APNS, Service: 'SNS', Time: NOW.toISOString() }) })),
      sqsRecord('not an event'),
    ];
    const handler = createFeedbackHandler({ store, now: () => NOW });

    // WHEN
    const { result, emitted } = await capturingMetrics(() => handler({ Records: records } as SQSEvent, lambdaContext('herald-feedback', 30_000)));

    // THEN
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await getDevice(store, bucketId, deadToken.id)).toMatchObject({ enabled: false, disabledReason: 'InvalidPlatformToken' });
    expect(await getDevice(store, bucketId, deleted.id)).toMatchObject({ enabled: false, disabledReason: ENDPOINT_DELETED_REASON });
    expect(emitted).toEqual(
      expect.arrayContaining([
        { name: 'PushFeedback', value: 1, dimensions: { eventType: 'DeliveryFailure', failureType: 'InvalidPlatformToken' } },
        { name: 'PushFeedback', value: 1, dimensions: { eventType: 'EndpointDeleted', failureType: 'None' } },
        { name: 'PushFeedback', value: 1, dimensions: { eventType: 'Unrecognized', failureType: 'None' } },
      ]),
    );
  });

  test('a store failure fails only its record, for SQS to redeliver', async () => {
    const failingStore: Store = { ...store, doc: { send: () => Promise.reject(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' })) } as unknown as Store['doc'] };
    const record = sqsRecord(JSON.stringify({ EventType: 'EndpointDeleted', EndpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/abcdef01' }));
    const handler = createFeedbackHandler({ store: failingStore });

    const result = await handler({ Records: [record, sqsRecord('{}')] } as SQSEvent, lambdaContext('herald-feedback', 30_000));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
  });
});
