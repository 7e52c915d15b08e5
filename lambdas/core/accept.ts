import { HeraldError } from './errors';
import { stampNotification, validateNotification, type Notification } from './notification';
import type { ParsedNotification } from './parsers/types';
import { EnqueueError, type NotificationQueue } from './queue';
import { getBucket } from './store/buckets';
import { claimDedupeKey, clearDedupeUncertain, markDedupeUncertain, releaseDedupeKey } from './store/dedupe';
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
 * SQS took it: on a queue failure the caller gets a 503, and the dedupe claims are settled so that
 * the sender's retry queues exactly what is missing, each under one notification id (see
 * `settleClaims`).
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
  const claimed: { key: string; notificationId: string; createdAt: string }[] = [];
  /** Replays of notifications whose queuing was uncertain, queued again under their own id. */
  const requeued: { key: string; notificationId: string }[] = [];
  try {
    for (const item of stamped) {
      if (item.dedupeKey === undefined) {
        fresh.push(item);
        continue;
      }
      // Counted as claimed before the call: if the put's answer is lost, the claim may exist.
      const claim = { key: item.dedupeKey, notificationId: item.notification.id, createdAt: item.notification.createdAt };
      claimed.push(claim);
      const earlier = await claimDedupeKey(deps.store, bucketId, item.dedupeKey, item.notification.id, now);
      if (!earlier) {
        fresh.push(item);
        continue;
      }
      claimed.pop();
      if (earlier.uncertainSince) {
        fresh.push({ ...item, notification: { ...item.notification, id: earlier.notificationId, createdAt: earlier.uncertainSince } });
        requeued.push({ key: item.dedupeKey, notificationId: earlier.notificationId });
      } else {
        duplicates.push(earlier.notificationId);
      }
    }
    if (fresh.length > 0) await deps.queue.enqueue(fresh.map((item) => ({ notification: item.notification })));
  } catch (error) {
    await settleClaims(deps.store, bucketId, claimed, error);
    throw new HeraldError('service_unavailable', 'the notification could not be queued; retry later', { 'retry-after': '5' }, error);
  }
  // Best effort: a claim left uncertain only makes a later replay queue the same id once more.
  await Promise.allSettled(requeued.map((claim) => clearDedupeUncertain(deps.store, bucketId, claim.key, claim.notificationId)));
  return { queued: fresh.map((item) => item.notification), duplicates, routineDropped: parsed.length - kept.length };
}

/**
 * After a failed enqueue: claims of notifications SQS certainly did not take are given back (the
 * retry queues them afresh); claims of ones it may have taken are marked uncertain (the retry
 * queues them again under the same id, which delivery pushes at most once per device); claims of
 * queued ones stay (the retry is a replay). A claim that can be neither marked nor released stays
 * as it is: the retry is then answered as a replay.
 */
async function settleClaims(
  store: Store,
  bucketId: string,
  claimed: readonly { key: string; notificationId: string; createdAt: string }[],
  error: unknown,
): Promise<void> {
  const queued = error instanceof EnqueueError ? error.queuedIds : new Set<string>();
  const uncertain = error instanceof EnqueueError ? error.uncertainIds : new Set<string>();
  await Promise.allSettled(
    claimed
      .filter((claim) => !queued.has(claim.notificationId))
      .map((claim) =>
        uncertain.has(claim.notificationId)
          ? persist(() => markDedupeUncertain(store, bucketId, claim.key, claim.notificationId, claim.createdAt)).catch(() =>
              // Unmarked, the claim would read as a plain replay: give it back instead (a second id beats a lost one).
              persist(() => releaseDedupeKey(store, bucketId, claim.key, claim.notificationId)),
            )
          : persist(() => releaseDedupeKey(store, bucketId, claim.key, claim.notificationId)),
      ),
  );
}

/**
 * A claim left unsettled costs a lost notification, so settling gets a few more tries (each with
 * the SDK's own retries) than an ordinary call.
 */
async function persist(write: () => Promise<void>, tries = 3): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
