import { HeraldError } from './errors';
import { stampNotification, validateNotification, type Notification } from './notification';
import type { ParsedNotification } from './parsers/types';
import { EnqueueError, messageBody, type NotificationQueue } from './queue';
import { scheduleNameOf, type NotificationScheduler } from './schedule/scheduler';
import { MAX_SQS_DELAY_MS, resolveDueAt } from './schedule/when';
import { getBucket } from './store/buckets';
import { claimDedupeKey, clearDedupeUncertain, markDedupeUncertain, releaseDedupeKey } from './store/dedupe';
import { putScheduled, settleScheduled } from './store/scheduled';
import type { Store } from './store/table';

export interface AcceptDeps {
  readonly store: Store;
  readonly queue: NotificationQueue;
  /** Holds notifications due more than 15 minutes ahead; without it, such a request is refused. */
  readonly scheduler?: NotificationScheduler;
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
      const notification = stampNotification(validateNotification(item.content), bucketId, source, now);
      const dueAt = item.timing ? dueAtFor(item.timing, now, deps.scheduler !== undefined) : undefined;
      return { notification: dueAt ? { ...notification, scheduledSendAt: dueAt.toISOString() } : notification, dedupeKey: item.dedupeKey };
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
    await queueOrSchedule(deps, fresh.map((item) => item.notification), now);
  } catch (error) {
    await settleClaims(deps.store, bucketId, claimed, error);
    await dropUnqueuedSchedules(deps.store, fresh.map((item) => item.notification), error, now);
    throw new HeraldError('service_unavailable', 'the notification could not be queued; retry later', { 'retry-after': '5' }, error);
  }
  // Best effort: a claim left uncertain only makes a later replay queue the same id once more.
  await Promise.allSettled(requeued.map((claim) => clearDedupeUncertain(deps.store, bucketId, claim.key, claim.notificationId)));
  return { queued: fresh.map((item) => item.notification), duplicates, routineDropped: parsed.length - kept.length };
}

/** The due time asked for; more than 15 minutes ahead needs a scheduler. */
function dueAtFor(timing: NonNullable<ParsedNotification['timing']>, now: Date, canSchedule: boolean): Date | undefined {
  const dueAt = resolveDueAt(timing, now);
  if (dueAt && !canSchedule && dueAt.getTime() - now.getTime() > MAX_SQS_DELAY_MS) {
    const field = timing.scheduledSendAt !== undefined && timing.scheduledSendAt !== '' ? 'scheduledSendAt' : 'delay';
    throw new HeraldError('validation_failed', `${field}: more than 15 minutes ahead needs EventBridge Scheduler, which is not configured here`);
  }
  return dueAt;
}

const needsScheduler = (notification: Notification, now: Date) =>
  notification.scheduledSendAt !== undefined && Date.parse(notification.scheduledSendAt) - now.getTime() > MAX_SQS_DELAY_MS;

/**
 * Scheduled notifications get their record first (delivery and cancel read it). Those due within
 * 15 minutes are queued with the rest (SQS holds them back); later ones get a one-time schedule
 * that queues a reference to the record when due. A failure says which were queued or scheduled.
 */
async function queueOrSchedule(deps: AcceptDeps, notifications: readonly Notification[], now: Date): Promise<void> {
  for (const notification of notifications) {
    if (!notification.scheduledSendAt) continue;
    const scheduler = needsScheduler(notification, now);
    await putScheduled(deps.store, {
      notification,
      dueAt: notification.scheduledSendAt,
      mechanism: scheduler ? 'scheduler' : 'sqs-delay',
      ...(scheduler ? { scheduleName: scheduleNameOf(notification.id) } : {}),
    });
  }
  const queued = notifications.filter((notification) => !needsScheduler(notification, now));
  if (queued.length > 0) await deps.queue.enqueue(queued.map((notification) => ({ notification })));
  const done = new Set(queued.map((notification) => notification.id));
  for (const notification of notifications.filter((item) => needsScheduler(item, now))) {
    try {
      await deps.scheduler!.schedule({
        name: scheduleNameOf(notification.id),
        dueAt: new Date(notification.scheduledSendAt!),
        job: messageBody({ kind: 'scheduled', notification: { id: notification.id, bucketId: notification.bucketId } }),
      });
    } catch (error) {
      // The request may have reached Scheduler; the name makes a retry under the same id harmless.
      throw new EnqueueError(`Scheduler refused the schedule: ${(error as Error).name}`, done, new Set([notification.id]), { cause: error });
    }
    done.add(notification.id);
  }
}

/**
 * Records of scheduled notifications that were certainly neither queued nor scheduled are marked
 * cancelled, so they are not listed as pending (a retry queues them under new ids). Best effort.
 */
async function dropUnqueuedSchedules(store: Store, notifications: readonly Notification[], error: unknown, now: Date): Promise<void> {
  const queued = error instanceof EnqueueError ? error.queuedIds : new Set<string>();
  const uncertain = error instanceof EnqueueError ? error.uncertainIds : new Set<string>();
  await Promise.allSettled(
    notifications
      .filter((notification) => notification.scheduledSendAt && !queued.has(notification.id) && !uncertain.has(notification.id))
      .map((notification) => settleScheduled(store, notification.bucketId, notification.id, 'cancelled', now)),
  );
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
