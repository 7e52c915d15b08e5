import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApnsEnvironment, DevicePlatform, PlatformKey } from '../push/types';
import { isConditionalCheckFailed, type Store } from './table';

/** A device of a bucket. The push token itself is never stored: SNS holds it in the endpoint. */
export interface Device {
  readonly bucketId: string;
  /** Derived from platform, environment and token, so re-registering is idempotent. */
  readonly id: string;
  readonly platform: DevicePlatform;
  /** APNs gateway for iOS devices; absent for Android. */
  readonly environment?: ApnsEnvironment;
  readonly name?: string;
  /** The SNS platform endpoint; absent while the platform has no credentials configured. */
  readonly endpointArn?: string;
  /** A hash of the current push token (with platform and environment), never the token. */
  readonly tokenKey?: string;
  readonly enabled: boolean;
  readonly disabledReason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The SNS `MessageStructure: json` key a device is reached through. */
export function platformKeyOf(device: Pick<Device, 'platform' | 'environment'>): PlatformKey {
  if (device.platform === 'android') return 'GCM';
  return device.environment === 'sandbox' ? 'APNS_SANDBOX' : 'APNS';
}

const deviceKey = (bucketId: string, deviceId: string) => ({ pk: `BUCKET#${bucketId}`, sk: `DEVICE#${deviceId}` });

export async function getDevice(store: Store, bucketId: string, deviceId: string): Promise<Device | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: deviceKey(bucketId, deviceId) }));
  return Item ? toDevice(Item) : undefined;
}

const tokenAliasKey = (bucketId: string, tokenKey: string) => ({ pk: `BUCKET#${bucketId}`, sk: `DEVTOKEN#${tokenKey}` });

/**
 * The lookup from an SNS endpoint to a device that uses it, so SNS's endpoint events (which name
 * only the endpoint) find their devices with a Query, never a Scan. One endpoint may serve several
 * devices: the same token registered in two buckets gets the same endpoint back from SNS.
 */
export const endpointLookupKey = (endpointArn: string, bucketId: string, deviceId: string) => ({
  pk: `ENDPOINT#${endpointArn}`,
  sk: `DEVICE#${bucketId}#${deviceId}`,
});

/** The keys of a device's own items outside its bucket's partition (for deleting a bucket). */
export function deviceItemKeys(item: Record<string, unknown>): Record<string, string>[] {
  return typeof item.endpointArn === 'string' ? [endpointLookupKey(item.endpointArn, item.bucketId as string, item.id as string)] : [];
}

/**
 * Stores a device, the alias from its token's key and the lookup from its endpoint; a replaced
 * token's alias is removed. (A replaced endpoint's lookup stays until an event finds it stale.)
 */
export async function putDevice(store: Store, device: Device, previousTokenKey?: string): Promise<void> {
  await store.doc.send(
    new PutCommand({ TableName: store.tableName, Item: { ...deviceKey(device.bucketId, device.id), kind: 'device', ...device } }),
  );
  if (device.endpointArn) {
    await store.doc.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...endpointLookupKey(device.endpointArn, device.bucketId, device.id), kind: 'deviceEndpoint', bucketId: device.bucketId, deviceId: device.id },
      }),
    );
  }
  if (device.tokenKey) {
    await store.doc.send(
      new PutCommand({ TableName: store.tableName, Item: { ...tokenAliasKey(device.bucketId, device.tokenKey), kind: 'deviceToken', deviceId: device.id } }),
    );
  }
  if (previousTokenKey && previousTokenKey !== device.tokenKey) {
    await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: tokenAliasKey(device.bucketId, previousTokenKey) }));
  }
}

/** The device a push token (by its key) belongs to, if registered in this bucket. */
export async function findDeviceByToken(store: Store, bucketId: string, tokenKey: string): Promise<string | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: tokenAliasKey(bucketId, tokenKey) }));
  return Item?.deviceId as string | undefined;
}

export async function deleteDevice(store: Store, device: Device): Promise<void> {
  await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: deviceKey(device.bucketId, device.id) }));
  if (device.tokenKey) await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: tokenAliasKey(device.bucketId, device.tokenKey) }));
  if (device.endpointArn) {
    await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: endpointLookupKey(device.endpointArn, device.bucketId, device.id) }));
  }
}

export interface DevicePage {
  readonly devices: Device[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly cursor?: string;
}

/** One page of a bucket's devices (a Query on the bucket's partition, never a Scan). */
export async function listDevices(store: Store, bucketId: string, cursor?: string, limit = 500): Promise<DevicePage> {
  const result = await store.doc.send(
    new QueryCommand({
      TableName: store.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
      ExpressionAttributeValues: { ':pk': `BUCKET#${bucketId}`, ':device': 'DEVICE#' },
      ExclusiveStartKey: cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined,
      Limit: limit,
    }),
  );
  return {
    devices: (result.Items ?? []).map(toDevice),
    cursor: result.LastEvaluatedKey ? Buffer.from(JSON.stringify(result.LastEvaluatedKey)).toString('base64url') : undefined,
  };
}

/** SNS reported the endpoint disabled (bad token, wrong APNs environment), or an operator disabled it. */
export async function disableDevice(store: Store, bucketId: string, deviceId: string, reason: string, now = new Date()): Promise<void> {
  await store.doc.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: deviceKey(bucketId, deviceId),
      UpdateExpression: 'SET enabled = :false, disabledReason = :reason, updatedAt = :now',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':false': false, ':reason': reason, ':now': now.toISOString() },
    }),
  ).catch((error: unknown) => {
    // The device was deleted meanwhile: nothing left to disable.
    if (!isConditionalCheckFailed(error)) throw error;
  });
}

/** The devices (bucket and id) whose stored endpoint lookup names this SNS endpoint. */
export async function findDevicesByEndpoint(store: Store, endpointArn: string): Promise<{ bucketId: string; deviceId: string }[]> {
  const found: { bucketId: string; deviceId: string }[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `ENDPOINT#${endpointArn}` },
        ExclusiveStartKey: cursor,
      }),
    );
    for (const item of page.Items ?? []) found.push({ bucketId: item.bucketId as string, deviceId: item.deviceId as string });
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return found;
}

/** Removes an endpoint lookup that no longer matches its device (deleted, or moved to another endpoint). */
export async function deleteEndpointLookup(store: Store, endpointArn: string, bucketId: string, deviceId: string): Promise<void> {
  await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: endpointLookupKey(endpointArn, bucketId, deviceId) }));
}

/**
 * Disables a device because SNS reported its endpoint unusable, only if the device still uses that
 * endpoint, is still enabled, and has not changed since the event (a token refresh after the
 * event wins). Returns whether it was disabled.
 */
export async function disableDeviceOnEndpointEvent(
  store: Store,
  device: Pick<Device, 'bucketId' | 'id'>,
  endpointArn: string,
  reason: string,
  eventTime: Date,
  now = new Date(),
): Promise<boolean> {
  try {
    await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: deviceKey(device.bucketId, device.id),
        UpdateExpression: 'SET enabled = :false, disabledReason = :reason, updatedAt = :now',
        ConditionExpression: 'endpointArn = :endpoint AND enabled = :true AND updatedAt <= :eventTime',
        ExpressionAttributeValues: {
          ':false': false,
          ':true': true,
          ':reason': reason,
          ':now': now.toISOString(),
          ':endpoint': endpointArn,
          ':eventTime': eventTime.toISOString(),
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

function toDevice(item: Record<string, unknown>): Device {
  return {
    bucketId: item.bucketId as string,
    id: item.id as string,
    platform: item.platform as DevicePlatform,
    environment: item.environment as ApnsEnvironment | undefined,
    name: item.name as string | undefined,
    endpointArn: item.endpointArn as string | undefined,
    tokenKey: item.tokenKey as string | undefined,
    enabled: item.enabled !== false,
    disabledReason: item.disabledReason as string | undefined,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
}
