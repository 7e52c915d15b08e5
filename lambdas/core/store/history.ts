import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Notification } from '../notification';
import type { DeliveredAs, Presentation, QuietReason } from '../quiet-hours';
import { epochSeconds, isConditionalCheckFailed, type Store } from './table';

/** @default 30 days; set with HISTORY_RETENTION_DAYS. */
export const DEFAULT_HISTORY_DAYS = 30;

/** A notification as kept in its bucket's history, with how its delivery went. */
export interface HistoryEntry {
  readonly notification: Notification;
  readonly deliveredAt: string;
  /** Count of final outcomes by status (sent, endpoint_disabled, failed, platform_not_configured). */
  readonly outcomes: Record<string, number>;
  /** When DELETE /notifications/{id} cleared it from the devices. */
  readonly clearedAt?: string;
  /** How it was shown: `passive` in quiet hours or while snoozed (NORMAL only). Absent for NO_PUSH. */
  readonly deliveredAs?: DeliveredAs;
  /** Why it was passive. */
  readonly quietReason?: QuietReason;
}

/** Ids are UUIDv7, so the sort key orders a bucket's history by time. */
const historyKey = (bucketId: string, notificationId: string) => ({ pk: `BUCKET#${bucketId}`, sk: `NOTIF#${notificationId}` });

/**
 * Adds a delivery attempt's final outcomes to the notification's history entry (created by the
 * first attempt or page). Counts are added, so the pages of a large bucket, and the retries of a
 * page, each count their own devices once. Returns when the notification was cleared, if it was
 * (a clear can arrive while it is being delivered: see {@link markCleared}), and how many devices
 * it was sent to so far. `presentation` is kept as first recorded (see {@link decidePresentation}).
 */
export async function addToHistory(
  store: Store,
  notification: Notification,
  outcomes: readonly { status: string }[],
  at: Date,
  retentionDays = DEFAULT_HISTORY_DAYS,
  presentation?: Presentation,
): Promise<{ clearedAt?: string; sent: number }> {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {
    ':notification': notification,
    ':at': at.toISOString(),
    ':ttl': epochSeconds(at) + retentionDays * 24 * 60 * 60,
    ':history': 'history',
    ...(presentation ? { ':presentation': presentation } : {}),
  };
  const adds = [...counts].map(([status, count], index) => {
    names[`#c${index}`] = `${COUNT_PREFIX}${status}`;
    values[`:c${index}`] = count;
    return `#c${index} :c${index}`;
  });
  const { Attributes } = await store.doc.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: historyKey(notification.bucketId, notification.id),
      UpdateExpression: `SET itemType = :history, notification = :notification, deliveredAt = :at, expiresAt = :ttl${presentation ? ', presentation = if_not_exists(presentation, :presentation)' : ''}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
      ...(adds.length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }),
  );
  const sent = (Attributes?.[`${COUNT_PREFIX}sent`] as number | undefined) ?? 0;
  return Attributes?.clearedAt ? { clearedAt: Attributes.clearedAt as string, sent } : { sent };
}

/**
 * Records how a notification is presented, once: the first job to decide wins, and every page and
 * retry of the notification gets that answer, so one notification is never half alert, half
 * passive when its pages run either side of a quiet window's edge. Written on the history item
 * before delivery writes the rest of it (which it then keeps), expiring like history meanwhile.
 */
export async function decidePresentation(
  store: Store,
  notification: Pick<Notification, 'bucketId' | 'id'>,
  proposed: Presentation,
  at: Date,
  retentionDays = DEFAULT_HISTORY_DAYS,
): Promise<Presentation> {
  const { Attributes } = await store.doc.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: historyKey(notification.bucketId, notification.id),
      UpdateExpression: 'SET presentation = if_not_exists(presentation, :presentation), expiresAt = if_not_exists(expiresAt, :ttl)',
      ExpressionAttributeValues: { ':presentation': proposed, ':ttl': epochSeconds(at) + retentionDays * 24 * 60 * 60 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return (Attributes?.presentation as Presentation | undefined) ?? proposed;
}

/**
 * How long a clear asked for before its notification reached history waits for it: longer than
 * the longest scheduled delivery (30 days), so a scheduled notification cleared early is not pushed.
 */
export const PENDING_CLEAR_TTL_SECONDS = 31 * 24 * 60 * 60;

export interface ClearMark {
  /** When it was first cleared (an earlier DELETE's time on a repeat). */
  readonly clearedAt: string;
  /** False when an earlier DELETE had cleared it already. */
  readonly first: boolean;
  /** The notification, when delivery has written it to history; absent for a pending clear. */
  readonly notification?: Notification;
}

/**
 * Marks a notification cleared, once: a repeat keeps the first `clearedAt`. With `pending`, a
 * notification not (yet) in history gets a bare clear record that its delivery finds (delivery
 * writes history only after pushing); without it, such an id is `undefined` (not found).
 */
export async function markCleared(store: Store, bucketId: string, notificationId: string, at: Date, options: { pending: boolean }): Promise<ClearMark | undefined> {
  try {
    const { Attributes: old } = await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: historyKey(bucketId, notificationId),
        UpdateExpression: 'SET clearedAt = if_not_exists(clearedAt, :at), itemType = if_not_exists(itemType, :pending), expiresAt = if_not_exists(expiresAt, :ttl)',
        ...(options.pending ? {} : { ConditionExpression: 'attribute_exists(notification)' }),
        ExpressionAttributeValues: { ':at': at.toISOString(), ':pending': 'pending_clear', ':ttl': epochSeconds(at) + PENDING_CLEAR_TTL_SECONDS },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return {
      clearedAt: (old?.clearedAt as string | undefined) ?? at.toISOString(),
      first: !old?.clearedAt,
      notification: old?.notification as Notification | undefined,
    };
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined;
    throw error;
  }
}

/** Takes back a clear whose push could not be queued, so that the caller's retry queues it. */
export async function unmarkCleared(store: Store, bucketId: string, notificationId: string, clearedAt: string): Promise<void> {
  try {
    await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: historyKey(bucketId, notificationId),
        UpdateExpression: 'REMOVE clearedAt',
        ConditionExpression: 'clearedAt = :at',
        ExpressionAttributeValues: { ':at': clearedAt },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

/**
 * When the notification was cleared, if it was, whether or not delivery has written it yet. An
 * eventually consistent read (half the cost): a clear it misses is caught by addToHistory's answer.
 */
export async function clearedAtOf(store: Store, bucketId: string, notificationId: string): Promise<string | undefined> {
  const { Item } = await store.doc.send(
    new GetCommand({ TableName: store.tableName, Key: historyKey(bucketId, notificationId), ProjectionExpression: 'clearedAt' }),
  );
  return Item?.clearedAt as string | undefined;
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
    // A pending clear (see markCleared) is not a notification yet.
    entries: (page.Items ?? []).filter((item) => item.notification !== undefined).map(toEntry),
    cursor: page.LastEvaluatedKey ? Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') : undefined,
  };
}

export async function getHistory(store: Store, bucketId: string, notificationId: string): Promise<HistoryEntry | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: historyKey(bucketId, notificationId) }));
  return Item?.notification ? toEntry(Item) : undefined;
}

function toEntry(item: Record<string, unknown>): HistoryEntry {
  const outcomes: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(COUNT_PREFIX)) outcomes[name.slice(COUNT_PREFIX.length)] = value as number;
  }
  return {
    notification: item.notification as Notification,
    deliveredAt: item.deliveredAt as string,
    outcomes,
    ...(item.clearedAt ? { clearedAt: item.clearedAt as string } : {}),
    ...presentationOf(item.presentation as Presentation | undefined),
  };
}

function presentationOf(presentation: Presentation | undefined): Pick<HistoryEntry, 'deliveredAs' | 'quietReason'> {
  if (!presentation) return {};
  return { deliveredAs: presentation.deliveredAs, ...(presentation.quietReason ? { quietReason: presentation.quietReason } : {}) };
}
