import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isConditionalCheckFailed, type Store } from './table';

/** Replays within this window are answered 2xx and queue nothing. */
export const DEDUPE_WINDOW_SECONDS = 24 * 60 * 60;

const dedupeKey = (bucketId: string, key: string) => ({ pk: `DEDUPE#${bucketId}#${key}`, sk: 'META' });

/**
 * Claims a dedupe key with a conditional put. Returns the notification id recorded by the first
 * claim when the key was already seen (a replay), or undefined when this call claimed it.
 */
export async function claimDedupeKey(
  store: Store,
  bucketId: string,
  key: string,
  notificationId: string,
  now = new Date(),
): Promise<string | undefined> {
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
    let earlier = (error as { Item?: { notificationId?: { S?: string } } }).Item?.notificationId?.S;
    if (!earlier) {
      // dynalite (local mode) ignores ReturnValuesOnConditionCheckFailure: read the claim instead.
      const { Item } = await store.doc.send(
        new GetCommand({ TableName: store.tableName, Key: dedupeKey(bucketId, key), ConsistentRead: true }),
      );
      earlier = (Item?.notificationId as string | undefined) ?? 'unknown';
    }
    // Our own claim: the SDK retried a put whose answer was lost. It is ours, not a replay.
    return earlier === notificationId ? undefined : earlier;
  }
}

/**
 * Gives a claim back when the notification could not be queued, so the sender's retry is accepted.
 * Only this notification's own claim is removed, never an earlier request's.
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
