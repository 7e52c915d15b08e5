import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApnsEnvironment, DevicePlatform } from '../push/types';
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
  readonly enabled: boolean;
  readonly disabledReason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const deviceKey = (bucketId: string, deviceId: string) => ({ pk: `BUCKET#${bucketId}`, sk: `DEVICE#${deviceId}` });

export async function getDevice(store: Store, bucketId: string, deviceId: string): Promise<Device | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: deviceKey(bucketId, deviceId) }));
  return Item ? toDevice(Item) : undefined;
}

export async function putDevice(store: Store, device: Device): Promise<void> {
  await store.doc.send(
    new PutCommand({ TableName: store.tableName, Item: { ...deviceKey(device.bucketId, device.id), kind: 'device', ...device } }),
  );
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

/** SNS reported the endpoint disabled (bad token, wrong APNs environment): stop sending to it. */
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
    enabled: item.enabled !== false,
    disabledReason: item.disabledReason as string | undefined,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
}
