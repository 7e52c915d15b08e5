import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
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

export async function recordHistory(store: Store, entry: HistoryEntry, retentionDays = DEFAULT_HISTORY_DAYS): Promise<void> {
  await store.doc.send(
    new PutCommand({
      TableName: store.tableName,
      Item: {
        ...historyKey(entry.notification.bucketId, entry.notification.id),
        itemType: 'history',
        ...entry,
        expiresAt: epochSeconds(new Date(entry.deliveredAt)) + retentionDays * 24 * 60 * 60,
      },
    }),
  );
}

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
  return { notification: item.notification as Notification, deliveredAt: item.deliveredAt as string, outcomes: (item.outcomes as Record<string, number>) ?? {} };
}
