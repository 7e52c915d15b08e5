import { HeraldError } from './errors';
import { stampNotification, validateNotification, type Notification } from './notification';
import type { ParsedNotification } from './parsers/types';
import type { NotificationQueue } from './queue';
import { claimDedupeKey, releaseDedupeKey } from './store/dedupe';
import type { Store } from './store/table';

export interface AcceptDeps {
  readonly store: Store;
  readonly queue: NotificationQueue;
  readonly now?: () => Date;
}

export interface Accepted {
  /** Queued now. */
  readonly queued: Notification[];
  /** Replays of notifications queued earlier: their original ids. */
  readonly duplicates: string[];
}

/**
 * Validates, dedupes and queues a source's notifications. Nothing is reported as accepted unless
 * SQS took it: on a queue failure the dedupe claims are given back and the caller gets a 503, so
 * the sender's retry is not mistaken for a replay.
 */
export async function acceptNotifications(
  deps: AcceptDeps,
  bucketId: string,
  source: string,
  parsed: readonly ParsedNotification[],
): Promise<Accepted> {
  const now = deps.now?.() ?? new Date();
  const stamped = parsed.map((item, index) => {
    try {
      return { notification: stampNotification(validateNotification(item.content), bucketId, source, now), dedupeKey: item.dedupeKey };
    } catch (error) {
      if (error instanceof HeraldError && parsed.length > 1) {
        throw new HeraldError(error.code, `notification ${index + 1} of ${parsed.length}: ${error.message}`);
      }
      throw error;
    }
  });

  const fresh: typeof stamped = [];
  const duplicates: string[] = [];
  const claimed: string[] = [];
  try {
    for (const item of stamped) {
      if (item.dedupeKey === undefined) {
        fresh.push(item);
        continue;
      }
      const earlier = await claimDedupeKey(deps.store, bucketId, item.dedupeKey, item.notification.id, now);
      if (earlier) {
        duplicates.push(earlier);
      } else {
        claimed.push(item.dedupeKey);
        fresh.push(item);
      }
    }
    if (fresh.length > 0) await deps.queue.enqueue(fresh.map((item) => ({ notification: item.notification })));
  } catch (error) {
    await Promise.allSettled(claimed.map((key) => releaseDedupeKey(deps.store, bucketId, key)));
    throw new HeraldError('service_unavailable', 'the notification could not be queued; retry later', { 'retry-after': '5' }, error);
  }
  return { queued: fresh.map((item) => item.notification), duplicates };
}
