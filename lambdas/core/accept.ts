import { HeraldError } from './errors';
import { stampNotification, validateNotification, type Notification } from './notification';
import type { ParsedNotification } from './parsers/types';
import { EnqueueError, type NotificationQueue } from './queue';
import { getBucket } from './store/buckets';
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
  /** Routine events dropped because the bucket did not opt in to them. */
  readonly routineDropped: number;
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
  // Routine events cost a bucket read only when there are some: most requests carry none.
  const wantsRoutine = parsed.some((item) => item.routine) && (await getBucket(deps.store, bucketId))?.routineSources?.includes(source);
  const kept = parsed.filter((item) => !item.routine || wantsRoutine);
  const stamped = kept.map((item, index) => {
    try {
      return { notification: stampNotification(validateNotification(item.content), bucketId, source, now), dedupeKey: item.dedupeKey };
    } catch (error) {
      if (error instanceof HeraldError && kept.length > 1) {
        throw new HeraldError(error.code, `notification ${index + 1} of ${kept.length}: ${error.message}`);
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
      // Counted as claimed before the call: if the put's answer is lost, the claim may exist.
      const claim = { key: item.dedupeKey, notificationId: item.notification.id };
      claimed.push(claim);
      const earlier = await claimDedupeKey(deps.store, bucketId, item.dedupeKey, item.notification.id, now);
      if (earlier) {
        claimed.pop();
        duplicates.push(earlier);
      } else {
        fresh.push(item);
      }
    }
    if (fresh.length > 0) await deps.queue.enqueue(fresh.map((item) => ({ notification: item.notification })));
  } catch (error) {
    const queued = error instanceof EnqueueError ? error.queuedIds : new Set<string>();
    const unqueued = claimed.filter((claim) => !queued.has(claim.notificationId));
    await Promise.allSettled(unqueued.map((claim) => releaseDedupeKey(deps.store, bucketId, claim.key, claim.notificationId)));
    throw new HeraldError('service_unavailable', 'the notification could not be queued; retry later', { 'retry-after': '5' }, error);
  }
  return { queued: fresh.map((item) => item.notification), duplicates, routineDropped: parsed.length - kept.length };
}
