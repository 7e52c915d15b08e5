import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { PushGateway } from '../push/gateway';
import type { NotificationScheduler } from '../schedule/scheduler';
import { signingKeyName, type SigningKeyVault } from '../sources/vault';
import { bucketItemKeys, type Bucket } from '../store/buckets';
import { credentialItemKeys } from '../store/credentials';
import { deviceItemKeys } from '../store/devices';
import { clearClaimId } from '../store/outcomes';
import type { Store } from '../store/table';

export interface DeleteBucketDeps {
  readonly store: Store;
  readonly gateway: PushGateway;
  readonly vault: SigningKeyVault;
  /** Deletes the Scheduler schedules of its pending scheduled notifications. */
  readonly scheduler?: NotificationScheduler;
}

type Key = Record<string, string>;

/**
 * Deletes a bucket and everything that is its own: each device's SNS endpoint and item, its
 * credentials (hash and index items), its sources' signing keys, its history with the per-device
 * outcomes, its templates (items of its partition like the rest), the schedules of its pending
 * scheduled notifications, and its name. Dedupe records expire by TTL within 24 hours.
 */
export async function deleteBucket(deps: DeleteBucketDeps, bucket: Bucket): Promise<{ devices: number; items: number }> {
  const keys: Key[] = [];
  let devices = 0;
  for await (const item of query(deps.store, `BUCKET#${bucket.id}`)) {
    const sk = item.sk as string;
    keys.push({ pk: item.pk as string, sk });
    if (sk.startsWith('DEVICE#')) {
      devices += 1;
      if (item.endpointArn) await deps.gateway.deleteEndpoint(item.endpointArn as string);
      keys.push(...deviceItemKeys(item));
    } else if (sk.startsWith('CRED#')) {
      keys.push(...credentialItemKeys(item));
    } else if (sk.startsWith('SOURCE#')) {
      if (item.secretKind === 'signature') await deps.vault.delete(signingKeyName(bucket.id, item.source as string));
    } else if (sk.startsWith('SCHEDULED#')) {
      // Only tidying: a schedule left behind fires, finds no record and is dropped by delivery.
      if (item.status === 'pending' && item.scheduleName) await deps.scheduler?.cancel(item.scheduleName as string).catch(() => undefined);
    } else if (sk.startsWith('NOTIF#')) {
      const notificationId = sk.slice('NOTIF#'.length);
      // Its per-device outcomes, and those of its clear push if it was cleared.
      for (const partition of item.clearedAt ? [notificationId, clearClaimId(notificationId)] : [notificationId]) {
        for await (const outcome of query(deps.store, `NOTIF#${partition}`)) keys.push({ pk: outcome.pk as string, sk: outcome.sk as string });
      }
    }
  }
  keys.push(...bucketItemKeys(bucket));
  // The bucket's own item is in its partition too; BatchWriteItem refuses a key twice.
  const unique = [...new Map(keys.map((key) => [`${key.pk}\u0000${key.sk}`, key])).values()];
  await deleteAll(deps.store, unique);
  return { devices, items: unique.length };
}

async function* query(store: Store, pk: string): AsyncGenerator<Record<string, unknown>> {
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({ TableName: store.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ExclusiveStartKey: cursor }),
    );
    yield* page.Items ?? [];
    cursor = page.LastEvaluatedKey;
  } while (cursor);
}

/** BatchWriteItem takes 25 deletes at a time and may hand some back (throttling): retried. */
async function deleteAll(store: Store, keys: readonly Key[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 25) {
    let requests = keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      if (attempt > 8) throw new Error(`DynamoDB kept ${requests.length} deletes unprocessed`);
      const result = await store.doc.send(new BatchWriteCommand({ RequestItems: { [store.tableName]: requests } }));
      requests = (result.UnprocessedItems?.[store.tableName] ?? []) as typeof requests;
    }
  }
}
