import { HeraldError } from './errors';
import type { NotificationQueue } from './queue';
import { markCleared, unmarkCleared } from './store/history';
import type { Store } from './store/table';

export interface ClearDeps {
  readonly store: Store;
  readonly queue: NotificationQueue;
  readonly now?: () => Date;
}

/** The answer to DELETE /notifications/{id}, the same for every repeat. */
export interface ClearResult {
  readonly id: string;
  readonly cleared: true;
  /** When it was first cleared. */
  readonly clearedAt: string;
  /** Not delivered yet: it will not be pushed (or, if its push is under way, will be cleared). */
  readonly pending?: true;
}

/**
 * How long after its id was made (UUIDv7 carries the time) a notification not yet in history may
 * still be on its way: queued, retried or delivered page by page. Longer than SQS's 15-minute delay
 * plus the queue's redelivery; an older id not in history is not found.
 */
export const PENDING_CLEAR_WINDOW_MS = 60 * 60 * 1000;
/** Clocks differ a little between the function that made the id and this one. */
const CLOCK_SKEW_MS = 60 * 1000;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The time inside a UUIDv7 (its first 48 bits), or undefined for anything else. */
export function uuidv7Time(id: string): number | undefined {
  if (!UUID_V7.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/**
 * Clears a notification of `bucketId` from its devices: marks it cleared in history and queues
 * the `clear` job that sends every device the silent push removing it. Repeats are answered alike
 * and queue nothing (each device gets the clear at most once anyway).
 *
 * A notification still on its way (its id is recent but delivery has not written history yet)
 * gets a pending clear that its delivery honours: not pushed, or cleared right after. Another
 * bucket's notification is not found, like an unknown id, so ids reveal nothing.
 */
export async function clearNotification(deps: ClearDeps, bucketId: string, notificationId: string): Promise<ClearResult> {
  const now = deps.now?.() ?? new Date();
  const madeAt = uuidv7Time(notificationId);
  const notFound = new HeraldError('notification_not_found', `no notification ${notificationId.slice(0, 64)} in this bucket`);
  if (madeAt === undefined) throw notFound;
  const mayBeOnItsWay = madeAt <= now.getTime() + CLOCK_SKEW_MS && now.getTime() - madeAt <= PENDING_CLEAR_WINDOW_MS;
  const mark = await markCleared(deps.store, bucketId, notificationId, now, { pending: mayBeOnItsWay });
  if (!mark) throw notFound;
  const result: ClearResult = { id: notificationId, cleared: true, clearedAt: mark.clearedAt, ...(mark.notification ? {} : { pending: true as const }) };
  // NO_PUSH never reached a device: history is all there is to clear.
  if (!mark.first || !mark.notification || mark.notification.deliveryType === 'NO_PUSH') return result;
  try {
    await deps.queue.enqueue([{ kind: 'clear', notification: mark.notification }]);
  } catch (error) {
    // Taken back, so the caller's retry is a first clear again and queues the push.
    await unmarkCleared(deps.store, bucketId, notificationId, mark.clearedAt).catch(() => undefined);
    throw new HeraldError('service_unavailable', 'the clear could not be queued; retry later', { 'retry-after': '5' }, error);
  }
  return result;
}
