import { HeraldError } from './errors';
import { stampNotification, validateNotification, type Notification } from './notification';
import type { ParsedNotification } from './parsers/types';
import { EnqueueError, type NotificationQueue } from './queue';
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
 * SQS took it: on a queue failure the caller gets a 503, and the dedupe claims of the notifications
 * that were not queued are given back, so the sender's retry queues exactly those (and the ones
 * that were queued are recognised as replays).
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
  const claimed: { key: string; notificationId: string }[] = [];
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
        claimed.push({ key: item.dedupeKey, notificationId: item.notification.id });
        fresh.push(item);
      }
    }
    if (fresh.length > 0) await deps.queue.enqueue(fresh.map((item) => ({ notification: item.notification })));
  } catch (error) {
    const queued = error instanceof EnqueueError ? error.queuedIds : new Set<string>();
    const unqueued = claimed.filter((claim) => !queued.has(claim.notificationId));
    await Promise.allSettled(unqueued.map((claim) => releaseDedupeKey(deps.store, bucketId, claim.key)));
    throw new HeraldError('service_unavailable', 'the notification could not be queued; retry later', { 'retry-after': '5' }, error);
  }
  return { queued: fresh.map((item) => item.notification), duplicates };
}
