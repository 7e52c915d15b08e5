import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isConditionalCheckFailed, type Store } from './table';

/** How long per-device outcomes are kept (they also serve as the delivery's idempotency record). */
export const OUTCOME_RETENTION_SECONDS = 30 * 24 * 60 * 60;

export const FINAL_STATUSES = ['sent', 'endpoint_disabled', 'failed', 'platform_not_configured'] as const;
export type DeliveryStatus = (typeof FINAL_STATUSES)[number];

export interface DeliveryOutcome {
  readonly deviceId: string;
  readonly platform: string;
  readonly status: DeliveryStatus;
  /** SNS MessageId for `sent`; the error name otherwise. */
  readonly detail?: string;
  readonly at: string;
}

const outcomeKey = (notificationId: string, deviceId: string) => ({ pk: `NOTIF#${notificationId}`, sk: `DEVICE#${deviceId}` });

/** Outcomes already recorded for a notification: a retried delivery skips those devices. */
export async function listOutcomes(store: Store, notificationId: string): Promise<Map<string, DeliveryOutcome>> {
  const outcomes = new Map<string, DeliveryOutcome>();
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
        ExpressionAttributeValues: { ':pk': `NOTIF#${notificationId}`, ':device': 'DEVICE#' },
        ExclusiveStartKey: cursor,
      }),
    );
    for (const item of page.Items ?? []) {
      outcomes.set(item.deviceId, { deviceId: item.deviceId, platform: item.platform, status: item.status, detail: item.detail, at: item.at });
    }
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return outcomes;
}

/**
 * Records a final outcome. The conditional put keeps the first one: a concurrent duplicate
 * delivery cannot overwrite `sent` with anything else.
 */
export async function recordOutcome(store: Store, notificationId: string, outcome: DeliveryOutcome): Promise<void> {
  try {
    await store.doc.send(
      new PutCommand({
        TableName: store.tableName,
        Item: {
          ...outcomeKey(notificationId, outcome.deviceId),
          kind: 'outcome',
          ...outcome,
          expiresAt: epochSeconds(new Date(outcome.at)) + OUTCOME_RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}
