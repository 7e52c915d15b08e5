import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Notification } from '../notification';
import { epochSeconds, isConditionalCheckFailed, type Store } from './table';

/** How a scheduled notification waits: SQS `DelaySeconds` (≤ 15 min), or an EventBridge Scheduler schedule. */
export type ScheduleMechanism = 'sqs-delay' | 'scheduler';
export type ScheduledStatus = 'pending' | 'sent' | 'cancelled';

/** A notification sent with `scheduledSendAt` or `delay`, kept whole so that delivery and listing read it here. */
export interface ScheduledNotification {
  readonly notification: Notification;
  readonly dueAt: string;
  readonly status: ScheduledStatus;
  readonly mechanism: ScheduleMechanism;
  /** The Scheduler schedule's name (`scheduler` only). */
  readonly scheduleName?: string;
  readonly cancelledAt?: string;
  readonly sentAt?: string;
}

/** Kept this long after its due time, so a late or retried delivery still finds it. */
export const SCHEDULED_TTL_AFTER_DUE_SECONDS = 7 * 24 * 60 * 60;

const scheduledKey = (bucketId: string, notificationId: string) => ({ pk: `BUCKET#${bucketId}`, sk: `SCHEDULED#${notificationId}` });

function fromItem(item: Record<string, unknown>): ScheduledNotification {
  const { notification, dueAt, status, mechanism, scheduleName, cancelledAt, sentAt } = item as unknown as ScheduledNotification;
  return { notification, dueAt, status, mechanism, ...(scheduleName ? { scheduleName } : {}), ...(cancelledAt ? { cancelledAt } : {}), ...(sentAt ? { sentAt } : {}) };
}

/**
 * Writes the record before the notification is queued or scheduled. A put over an existing
 * record (a retried request queuing the same id again) keeps a record that was cancelled or sent.
 */
export async function putScheduled(store: Store, record: Omit<ScheduledNotification, 'status'>): Promise<void> {
  try {
    await store.doc.send(
      new PutCommand({
        TableName: store.tableName,
        Item: {
          ...scheduledKey(record.notification.bucketId, record.notification.id),
          itemType: 'scheduled',
          ...record,
          status: 'pending',
          expiresAt: epochSeconds(new Date(record.dueAt)) + SCHEDULED_TTL_AFTER_DUE_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending' },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

export async function getScheduled(store: Store, bucketId: string, notificationId: string): Promise<ScheduledNotification | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: scheduledKey(bucketId, notificationId), ConsistentRead: true }));
  return Item ? fromItem(Item) : undefined;
}

/** The bucket's pending scheduled notifications, soonest first (at most `limit`). */
export async function listPendingScheduled(store: Store, bucketId: string, limit = 1000): Promise<ScheduledNotification[]> {
  const pending: ScheduledNotification[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': `BUCKET#${bucketId}`, ':prefix': 'SCHEDULED#', ':pending': 'pending' },
        ExclusiveStartKey: startKey,
      }),
    );
    pending.push(...(page.Items ?? []).map(fromItem));
    startKey = page.LastEvaluatedKey;
  } while (startKey && pending.length < limit);
  // Keyed by id (creation order); due order differs, so they are sorted here.
  return pending.sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.notification.id.localeCompare(b.notification.id)).slice(0, limit);
}

/**
 * Moves a pending record to `sent` or `cancelled`, conditionally: the one that wins decides. Returns
 * the record as it is afterwards (undefined when there is none), and whether this call moved it.
 */
export async function settleScheduled(
  store: Store,
  bucketId: string,
  notificationId: string,
  status: 'sent' | 'cancelled',
  at: Date,
): Promise<{ record?: ScheduledNotification; changed: boolean }> {
  try {
    const { Attributes } = await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: scheduledKey(bucketId, notificationId),
        UpdateExpression: `SET #status = :status, ${status === 'sent' ? 'sentAt' : 'cancelledAt'} = :at`,
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':at': at.toISOString(), ':pending': 'pending' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { record: Attributes ? fromItem(Attributes) : undefined, changed: true };
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    return { record: await getScheduled(store, bucketId, notificationId), changed: false };
  }
}
