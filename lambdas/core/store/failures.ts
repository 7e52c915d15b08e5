import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, type Store } from './table';

/**
 * Why a notification's delivery failed, kept beside its per-device outcomes (`NOTIF#<id>` /
 * `FAILURE`) so that the dead-letter listing can say what went wrong without reading logs. One item
 * per notification, whatever the page or attempt: the last reason wins and `attempts` counts them.
 */

/** As long as the dead-letter queue keeps a message (lib/queue.ts, `deadLetterRetention`). */
export const FAILURE_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** Reasons are one line for a table cell, not a stack trace. */
export const MAX_REASON_LENGTH = 300;

export interface DeliveryFailure {
  readonly notificationId: string;
  /** The last failed attempt's reason. */
  readonly reason: string;
  /** Failed attempts recorded (each SQS receive that failed counts once). */
  readonly attempts: number;
  readonly lastAt: string;
}

const failureKey = (notificationId: string) => ({ pk: `NOTIF#${notificationId}`, sk: 'FAILURE' });

/** Records one failed attempt in a single UpdateItem: the reason, a count, and a TTL. */
export async function recordDeliveryFailure(store: Store, notificationId: string, reason: string, at = new Date()): Promise<void> {
  await store.doc.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: failureKey(notificationId),
      UpdateExpression: 'SET kind = :kind, reason = :reason, lastAt = :at, expiresAt = :ttl ADD attempts :one',
      ExpressionAttributeValues: {
        ':kind': 'failure',
        ':reason': oneLine(reason),
        ':at': at.toISOString(),
        ':ttl': epochSeconds(at) + FAILURE_RETENTION_SECONDS,
        ':one': 1,
      },
    }),
  );
}

export async function getDeliveryFailure(store: Store, notificationId: string): Promise<DeliveryFailure | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: failureKey(notificationId) }));
  if (!Item) return undefined;
  return { notificationId, reason: Item.reason as string, attempts: Item.attempts as number, lastAt: Item.lastAt as string };
}

function oneLine(reason: string): string {
  const line = reason.replace(/\s+/g, ' ').trim() || 'unknown';
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
}
