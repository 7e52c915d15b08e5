import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isConditionalCheckFailed, type Store } from './table';

/** How long per-device outcomes are kept (they are also the delivery's idempotency record). */
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

/** The claims and outcomes of a notification's clear push live beside its own, under this id. */
export const clearClaimId = (notificationId: string) => `${notificationId}#clear`;

const outcomeKey = (notificationId: string, deviceId: string) => ({ pk: `NOTIF#${notificationId}`, sk: `DEVICE#${deviceId}` });

/**
 * The result of claiming a (notification, device) pair before publishing:
 * - `claimed`: this attempt owns it and may publish;
 * - `done`: an earlier attempt recorded a final outcome: publish nothing;
 * - `in_flight`: another attempt claimed it moments ago: try again later;
 * - `unknown`: an attempt claimed it long ago and never recorded an outcome (it died, or timed
 *   out, after the publish may have been sent): this attempt took the claim over and publishes
 *   again, which is the only case a device may get a notification twice.
 */
export type Claim = { kind: 'claimed' } | { kind: 'done'; outcome: DeliveryOutcome } | { kind: 'in_flight' } | { kind: 'unknown' };

export async function claimDelivery(
  store: Store,
  notificationId: string,
  deviceId: string,
  now: Date,
  staleAfterMs: number,
): Promise<Claim> {
  const claimedAt = now.toISOString();
  // Tells our own claim from another attempt's when the SDK retried a put whose answer was lost.
  const claimId = randomUUID();
  const item = { ...outcomeKey(notificationId, deviceId), kind: 'outcome', deviceId, status: 'publishing', claimedAt, claimId, expiresAt: epochSeconds(now) + OUTCOME_RETENTION_SECONDS };
  try {
    await store.doc.send(new PutCommand({ TableName: store.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return { kind: 'claimed' };
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: outcomeKey(notificationId, deviceId), ConsistentRead: true }));
  if (!Item) return claimDelivery(store, notificationId, deviceId, now, staleAfterMs); // released meanwhile
  if (Item.status !== 'publishing') return { kind: 'done', outcome: toOutcome(Item) };
  if (Item.claimId === claimId) return { kind: 'claimed' };
  if (now.getTime() - Date.parse(Item.claimedAt as string) < staleAfterMs) return { kind: 'in_flight' };
  try {
    await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: outcomeKey(notificationId, deviceId),
        UpdateExpression: 'SET claimedAt = :now, claimId = :claim',
        ConditionExpression: '#status = :publishing AND claimedAt = :old',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':now': claimedAt, ':claim': claimId, ':publishing': 'publishing', ':old': Item.claimedAt },
      }),
    );
    return { kind: 'unknown' };
  } catch (error) {
    if (isConditionalCheckFailed(error)) return { kind: 'in_flight' }; // another attempt took it over first
    throw error;
  }
}

/** Records the final outcome of a claimed pair. */
export async function recordOutcome(store: Store, notificationId: string, outcome: DeliveryOutcome): Promise<void> {
  await store.doc.send(
    new PutCommand({
      TableName: store.tableName,
      Item: { ...outcomeKey(notificationId, outcome.deviceId), kind: 'outcome', ...outcome, expiresAt: epochSeconds(new Date(outcome.at)) + OUTCOME_RETENTION_SECONDS },
    }),
  );
}

/** Gives a claim back after a publish that surely did not happen (refused before sending). */
export async function releaseClaim(store: Store, notificationId: string, deviceId: string): Promise<void> {
  try {
    await store.doc.send(
      new DeleteCommand({
        TableName: store.tableName,
        Key: outcomeKey(notificationId, deviceId),
        ConditionExpression: '#status = :publishing',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':publishing': 'publishing' },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

/**
 * A notification's recorded final outcomes, by device (claims still in flight are left out); with
 * `devices`, only those of device ids from `first` to `last` (a page of the bucket's devices, which
 * sort the same way).
 */
export async function listOutcomes(store: Store, notificationId: string, devices?: { first: string; last: string }): Promise<Map<string, DeliveryOutcome>> {
  const outcomes = new Map<string, DeliveryOutcome>();
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({
        TableName: store.tableName,
        ...(devices
          ? {
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
              ExpressionAttributeValues: { ':pk': `NOTIF#${notificationId}`, ':first': `DEVICE#${devices.first}`, ':last': `DEVICE#${devices.last}` },
            }
          : {
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
              ExpressionAttributeValues: { ':pk': `NOTIF#${notificationId}`, ':device': 'DEVICE#' },
            }),
        ExclusiveStartKey: cursor,
      }),
    );
    for (const item of page.Items ?? []) if (item.status !== 'publishing') outcomes.set(item.deviceId, toOutcome(item));
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return outcomes;
}

function toOutcome(item: Record<string, unknown>): DeliveryOutcome {
  return {
    deviceId: item.deviceId as string,
    platform: item.platform as string,
    status: item.status as DeliveryStatus,
    ...(item.detail ? { detail: item.detail as string } : {}),
    at: item.at as string,
  };
}
