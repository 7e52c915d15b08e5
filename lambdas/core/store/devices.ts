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

/** Stores a device and the alias from its token's key; a replaced token's alias is removed. */
export async function putDevice(store: Store, device: Device, previousTokenKey?: string): Promise<void> {
  await store.doc.send(
    new PutCommand({ TableName: store.tableName, Item: { ...deviceKey(device.bucketId, device.id), kind: 'device', ...device } }),
  );
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
