import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Notification } from '../notification';
import { epochSeconds, type Store } from './table';

/** @default 30 days; set with HISTORY_RETENTION_DAYS. */
export const DEFAULT_HISTORY_DAYS = 30;

/** A notification as kept in its bucket's history, with how its delivery went. */
export interface HistoryEntry {
  readonly notification: Notification;
  readonly deliveredAt: string;
  /** Count of final outcomes by status (sent, endpoint_disabled, failed, platform_not_configured). */
  readonly outcomes: Record<string, number>;
}

/** Ids are UUIDv7, so the sort key orders a bucket's history by time. */
const historyKey = (bucketId: string, notificationId: string) => ({ pk: `BUCKET#${bucketId}`, sk: `NOTIF#${notificationId}` });

/**
 * Adds a delivery attempt's final outcomes to the notification's history entry (created by the
 * first attempt or page). Counts are added, so the pages of a large bucket, and the retries of a
 * page, each count their own devices once.
 */
export async function addToHistory(
  store: Store,
  notification: Notification,
  outcomes: readonly { status: string }[],
  at: Date,
  retentionDays = DEFAULT_HISTORY_DAYS,
): Promise<void> {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {
    ':notification': notification,
    ':at': at.toISOString(),
    ':ttl': epochSeconds(at) + retentionDays * 24 * 60 * 60,
    ':history': 'history',
  };
  const adds = [...counts].map(([status, count], index) => {
    names[`#c${index}`] = `${COUNT_PREFIX}${status}`;
    values[`:c${index}`] = count;
    return `#c${index} :c${index}`;
  });
  await store.doc.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: historyKey(notification.bucketId, notification.id),
      UpdateExpression: `SET itemType = :history, notification = :notification, deliveredAt = :at, expiresAt = :ttl${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
      ...(adds.length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    }),
  );
}

/** Outcome counts are top-level numbers (`count_sent`, …) so that pages can ADD to them. */
const COUNT_PREFIX = 'count_';

export interface HistoryPage {
  readonly entries: HistoryEntry[];
  readonly cursor?: string;
}

/** Newest first, a page at a time. */
export async function listHistory(store: Store, bucketId: string, options: { limit?: number; cursor?: string } = {}): Promise<HistoryPage> {
  const page = await store.doc.send(
    new QueryCommand({
      TableName: store.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :notif)',
      ExpressionAttributeValues: { ':pk': `BUCKET#${bucketId}`, ':notif': 'NOTIF#' },
      ScanIndexForward: false,
      Limit: options.limit ?? 50,
      ExclusiveStartKey: options.cursor ? (JSON.parse(Buffer.from(options.cursor, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined,
    }),
  );
  return {
    entries: (page.Items ?? []).map(toEntry),
    cursor: page.LastEvaluatedKey ? Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') : undefined,
  };
}

export async function getHistory(store: Store, bucketId: string, notificationId: string): Promise<HistoryEntry | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: historyKey(bucketId, notificationId) }));
  return Item ? toEntry(Item) : undefined;
}

function toEntry(item: Record<string, unknown>): HistoryEntry {
  const outcomes: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(COUNT_PREFIX)) outcomes[name.slice(COUNT_PREFIX.length)] = value as number;
  }
  return { notification: item.notification as Notification, deliveredAt: item.deliveredAt as string, outcomes };
}
