import { HeraldError } from '../errors';
import { settleScheduled, type ScheduledNotification } from '../store/scheduled';
import type { Store } from '../store/table';
import type { NotificationScheduler } from './scheduler';

export interface CancelDeps {
  readonly store: Store;
  readonly scheduler?: NotificationScheduler;
  readonly now?: () => Date;
}

/** The answer to a cancel, the same for every repeat. */
export interface CancelResult {
  readonly id: string;
  readonly cancelled: true;
  readonly cancelledAt: string;
  readonly scheduledSendAt: string;
}

/**
 * Cancels a scheduled notification that is still pending: its record is marked cancelled (the one
 * thing delivery reads, so it is never pushed), then its Scheduler schedule, if it has one, is
 * deleted. Returns undefined when the notification was never scheduled; throws 409
 * `notification_already_sent` once it has gone out.
 */
export async function cancelScheduled(deps: CancelDeps, bucketId: string, notificationId: string): Promise<CancelResult | undefined> {
  const { record, changed } = await settleScheduled(deps.store, bucketId, notificationId, 'cancelled', deps.now?.() ?? new Date());
  if (!record) return undefined;
  if (record.status === 'sent') {
    throw new HeraldError('notification_already_sent', `notification ${notificationId.slice(0, 64)} was due at ${record.dueAt} and has been sent`);
  }
  if (changed && record.scheduleName) await deleteSchedule(deps, record);
  return { id: notificationId, cancelled: true, cancelledAt: record.cancelledAt!, scheduledSendAt: record.dueAt };
}

/**
 * The schedule is only tidied away: if it cannot be deleted (or no scheduler is configured here),
 * it fires and delivery drops the cancelled notification, so the cancel still stands.
 */
async function deleteSchedule(deps: CancelDeps, record: ScheduledNotification): Promise<void> {
  await deps.scheduler?.cancel(record.scheduleName!).catch(() => undefined);
}
