import type { Notification } from '../notification';
import type { DeliveryJob, ScheduledJob } from '../queue';
import { settleScheduled } from '../store/scheduled';
import type { Store } from '../store/table';

/** What delivery does with a job once a scheduled notification's record has been read. */
export type Release =
  | { readonly kind: 'deliver'; readonly notification: Notification }
  /** Cancelled before it was due (or its record is gone): not pushed, and not an error. */
  | { readonly kind: 'dropped'; readonly reason: 'cancelled' | 'no_record' };

/**
 * A due scheduled notification is let out once its record says so: a pending one is marked sent
 * and delivered; one already marked sent (a redelivered message) is delivered again, which the
 * per-device claims make harmless; a cancelled one is dropped. Jobs of unscheduled notifications,
 * clears and continuation pages pass as they are.
 */
export async function releaseScheduled(store: Store, job: DeliveryJob | ScheduledJob, now: Date): Promise<Release> {
  const scheduled = job.kind === 'scheduled' || (job.kind !== 'clear' && job.cursor === undefined && job.notification.scheduledSendAt !== undefined);
  if (!scheduled) return { kind: 'deliver', notification: job.notification as Notification };
  const { record } = await settleScheduled(store, job.notification.bucketId, job.notification.id, 'sent', now);
  if (record?.status === 'cancelled') return { kind: 'dropped', reason: 'cancelled' };
  if (record) return { kind: 'deliver', notification: record.notification };
  // Ingest writes the record before it queues or schedules, and it outlives the longest wait: none
  // means its bucket was deleted, with the record, so there is no one to send it to.
  return { kind: 'dropped', reason: 'no_record' };
}
