import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isConditionalCheckFailed, type Store } from './table';

/** Replays within this window are answered 2xx and queue nothing. */
export const DEDUPE_WINDOW_SECONDS = 24 * 60 * 60;

const dedupeKey = (bucketId: string, key: string) => ({ pk: `DEDUPE#${bucketId}#${key}`, sk: 'META' });

/** The notification an earlier request claimed the key for. */
export interface EarlierClaim {
  readonly notificationId: string;
  /**
   * Set when that request could not tell whether SQS took the notification (the send failed after
   * the request may have reached SQS): a replay queues it again under the same id and createdAt,
   * and delivery's per-device claims keep the pushes to one per device.
   */
  readonly uncertainSince?: string;
}

/**
 * Claims a dedupe key with a conditional put. Returns the earlier claim when the key was already
 * seen (a replay), or undefined when this call claimed it.
 */
export async function claimDedupeKey(
  store: Store,
  bucketId: string,
  key: string,
  notificationId: string,
  now = new Date(),
): Promise<EarlierClaim | undefined> {
  try {
    await store.doc.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...dedupeKey(bucketId, key), kind: 'dedupe', notificationId, expiresAt: epochSeconds(now) + DEDUPE_WINDOW_SECONDS },
        // TTL deletion lags by up to days: an expired record must not block a new delivery.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': epochSeconds(now) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return undefined;
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const old = (error as { Item?: { notificationId?: { S?: string }; uncertainSince?: { S?: string } } }).Item;
    let earlier: EarlierClaim | undefined = old?.notificationId?.S ? { notificationId: old.notificationId.S, uncertainSince: old.uncertainSince?.S } : undefined;
    if (!earlier) {
      // dynalite (local mode) ignores ReturnValuesOnConditionCheckFailure: read the claim instead.
      const { Item } = await store.doc.send(
        new GetCommand({ TableName: store.tableName, Key: dedupeKey(bucketId, key), ConsistentRead: true }),
      );
      earlier = { notificationId: (Item?.notificationId as string | undefined) ?? 'unknown', uncertainSince: Item?.uncertainSince as string | undefined };
    }
    // Our own claim: the SDK retried a put whose answer was lost. It is ours, not a replay.
    return earlier.notificationId === notificationId ? undefined : earlier;
  }
}

/**
 * Gives a claim back when the notification was certainly not queued, so the sender's retry is
 * accepted. Only this notification's own claim is removed, never an earlier request's.
 */
export async function releaseDedupeKey(store: Store, bucketId: string, key: string, notificationId: string): Promise<void> {
  try {
    await store.doc.send(
      new DeleteCommand({
        TableName: store.tableName,
        Key: dedupeKey(bucketId, key),
        ConditionExpression: 'notificationId = :ours',
        ExpressionAttributeValues: { ':ours': notificationId },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

/**
 * Marks a claim whose notification may or may not have reached SQS (`uncertainSince` = its
 * createdAt), so that the sender's retry re-queues it under the same id instead of either
 * dropping it as a replay or queuing a second notification.
 */
export async function markDedupeUncertain(store: Store, bucketId: string, key: string, notificationId: string, createdAt: string): Promise<void> {
  await setUncertain(store, bucketId, key, notificationId, createdAt);
}

/** The re-queue succeeded: later replays are plain replays again. */
export async function clearDedupeUncertain(store: Store, bucketId: string, key: string, notificationId: string): Promise<void> {
  await setUncertain(store, bucketId, key, notificationId, undefined);
}

async function setUncertain(store: Store, bucketId: string, key: string, notificationId: string, since: string | undefined): Promise<void> {
  try {
    await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: dedupeKey(bucketId, key),
        UpdateExpression: since ? 'SET uncertainSince = :since' : 'REMOVE uncertainSince',
        ConditionExpression: 'notificationId = :ours',
        ExpressionAttributeValues: { ':ours': notificationId, ...(since ? { ':since': since } : {}) },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}
