import { createHash, randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { PublishInput, PushGateway } from '../../lambdas/core/push/gateway';
import type { DeliveryJob, NotificationQueue } from '../../lambdas/core/queue';
import { putDevice, type Device } from '../../lambdas/core/store/devices';
import type { Store } from '../../lambdas/core/store/table';

/** BatchWriteItem takes at most 25 requests per call. */
const BATCH_WRITE_LIMIT = 25;

/**
 * The items `putDevice` writes for `device`, captured from the real function (so the benchmark's
 * devices stay shaped like Herald's as the store evolves), to be written in bulk.
 */
async function deviceItems(tableName: string, device: Device): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const capture = {
    tableName,
    doc: {
      send: async (command: { input: Record<string, unknown> }) => {
        const input = command.input as { Item?: Record<string, unknown>; TransactItems?: { Put?: { Item: Record<string, unknown> } }[] };
        if (input.Item) items.push(input.Item);
        for (const entry of input.TransactItems ?? []) if (entry.Put) items.push(entry.Put.Item);
        return {};
      },
    },
  } as unknown as Store;
  await putDevice(capture, device);
  return items;
}

/** An iOS device with an SNS endpoint, as a registration through `POST /devices` stores one. */
export function benchDevice(bucketId: string, index: number, now = new Date().toISOString()): Device {
  const id = createHash('sha256').update(`ios:production:bench-token-${bucketId}-${index}`).digest('hex').slice(0, 32);
  return {
    bucketId,
    id,
    platform: 'ios',
    environment: 'production',
    name: `iPhone ${index}`,
    endpointArn: `arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/${randomUUID()}`,
    tokenKey: id,
    enabled: true,
    createdAt: now,
    updatedAt: now,
  } as Device;
}

/** Writes `count` devices to a bucket with BatchWriteItem, 25 items a call, `parallel` calls in flight. */
export async function seedDevices(store: Store, bucketId: string, count: number, parallel = 8): Promise<void> {
  const items: Record<string, unknown>[] = [];
  const now = new Date().toISOString();
  for (let index = 0; index < count; index += 1) items.push(...(await deviceItems(store.tableName, benchDevice(bucketId, index, now))));
  let next = 0;
  const writer = async () => {
    while (next < items.length) {
      const chunk = items.slice(next, next + BATCH_WRITE_LIMIT);
      next += BATCH_WRITE_LIMIT;
      let requests: Record<string, unknown>[] | undefined = chunk.map((Item) => ({ PutRequest: { Item } }));
      while (requests && requests.length > 0) {
        const result = await store.doc.send(new BatchWriteCommand({ RequestItems: { [store.tableName]: requests as never } }));
        requests = result.UnprocessedItems?.[store.tableName] as Record<string, unknown>[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, writer));
}

/**
 * SNS mobile push stand-in for the benchmarks: every publish answers after `latencyMs` (SNS's own
 * round trip, injected), and records how long it really took (timers overshoot a little).
 */
export class LatencyGateway implements PushGateway {
  publishes = 0;
  totalPublishMs = 0;

  constructor(readonly latencyMs: number) {}

  async ensureEndpoint(_platformApplicationArn: string, token: string): Promise<string> {
    return `arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/${token}`;
  }

  async publish(_input: PublishInput): Promise<string> {
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    this.publishes += 1;
    this.totalPublishMs += performance.now() - started;
    return randomUUID();
  }

  async deleteEndpoint(): Promise<void> {}

  reset(): void {
    this.publishes = 0;
    this.totalPublishMs = 0;
  }
}

/**
 * The notification queue with SQS's round trip injected (0: answers at once). Keeps the last jobs
 * it was given, so delivery can be measured on exactly what ingest queued.
 */
export class LatencyQueue implements NotificationQueue {
  enqueued = 0;
  readonly recent: DeliveryJob[] = [];

  constructor(
    readonly latencyMs = 0,
    private readonly keep = 250,
  ) {}

  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    this.enqueued += jobs.length;
    this.recent.push(...jobs);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
  }
}
