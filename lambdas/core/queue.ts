import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Notification } from './notification';

/**
 * What a job asks delivery to do: `deliver` pushes the notification; `clear` sends every device of
 * its bucket the silent push that removes it (DELETE /notifications/{id}).
 */
export type DeliveryJobKind = 'deliver' | 'clear';

/** One queued delivery: the notification, whole, so delivery needs no second read. */
export interface DeliveryJob {
  /** Absent in messages queued before clearing existed, and for plain deliveries: `deliver`. */
  readonly kind?: DeliveryJobKind;
  readonly notification: Notification;
  /** Where a large bucket's delivery goes on: the next page of devices. */
  readonly cursor?: string;
}

/**
 * What EventBridge Scheduler queues when a scheduled notification is due: only a reference (a
 * schedule's input is small), so delivery reads the stored notification and its status.
 */
export interface ScheduledJob {
  readonly kind: 'scheduled';
  readonly notification: { readonly id: string; readonly bucketId: string };
}

export interface NotificationQueue {
  /** Queues every job, or throws `EnqueueError` saying which of them were queued all the same. */
  enqueue(jobs: readonly DeliveryJob[]): Promise<void>;
}

/**
 * Some jobs could not be queued. `queuedIds` are the notifications SQS took; `uncertainIds` those
 * of a request that failed after it may have reached SQS (a timeout, a lost reply); any others
 * were certainly not queued.
 */
export class EnqueueError extends Error {
  constructor(
    message: string,
    readonly queuedIds: ReadonlySet<string>,
    readonly uncertainIds: ReadonlySet<string> = new Set(),
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EnqueueError';
  }
}

/** SQS allows 10 entries per SendMessageBatch. */
const SQS_BATCH = 10;

export class SqsNotificationQueue implements NotificationQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SQSClient = new SQSClient({}),
  ) {}

  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    const queued = new Set<string>();
    for (let start = 0; start < jobs.length; start += SQS_BATCH) {
      const chunk = jobs.slice(start, start + SQS_BATCH);
      let result;
      try {
        result = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((job, index) => ({ Id: String(index), MessageBody: messageBody(job), ...delayOf(job) })),
          }),
        );
      } catch (error) {
        const uncertain = new Set(chunk.map((job) => job.notification.id));
        throw new EnqueueError(`SQS refused the batch: ${(error as Error).name}`, queued, uncertain, { cause: error });
      }
      for (const entry of result.Successful ?? []) queued.add(chunk[Number(entry.Id)]!.notification.id);
      if (result.Failed && result.Failed.length > 0) {
        const first = result.Failed[0]!;
        throw new EnqueueError(`SQS refused ${result.Failed.length} of ${chunk.length} messages (${first.Code}: ${first.Message})`, queued);
      }
    }
  }
}

/** SQS holds a message back for at most 15 minutes: notifications due later go through Scheduler. */
const MAX_DELAY_SECONDS = 900;

/** A notification due in the next 15 minutes waits in the queue (`DelaySeconds`), rounded up to the second. */
function delayOf(job: DeliveryJob): { DelaySeconds?: number } {
  // Only a notification's first message waits: its continuation pages and clears are due now.
  const dueAt = job.kind !== 'clear' && job.cursor === undefined ? job.notification.scheduledSendAt : undefined;
  if (!dueAt) return {};
  const seconds = Math.ceil((Date.parse(dueAt) - Date.now()) / 1000);
  return seconds > 0 ? { DelaySeconds: Math.min(seconds, MAX_DELAY_SECONDS) } : {};
}

/**
 * The job as ASCII JSON: SQS refuses some characters outside the BMP range it allows (and some
 * stand-ins refuse all of them), so everything past U+007E travels as a JSON `\\u` escape.
 */
export function messageBody(job: DeliveryJob | ScheduledJob): string {
  return JSON.stringify(job).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function parseDeliveryJob(body: string): DeliveryJob {
  const job = JSON.parse(body) as DeliveryJob;
  if (!job?.notification?.id || !job.notification.bucketId) throw new Error('queued message is not a Herald delivery job');
  if (job.kind !== undefined && job.kind !== 'deliver' && job.kind !== 'clear') throw new Error(`queued message has an unknown job kind "${String(job.kind).slice(0, 32)}"`);
  return job;
}

/** A queued message: a delivery job, or the reference Scheduler queues for a scheduled notification. */
export function parseQueuedJob(body: string): DeliveryJob | ScheduledJob {
  const job = JSON.parse(body) as DeliveryJob | ScheduledJob;
  if (job?.kind === 'scheduled') {
    if (typeof job.notification?.id !== 'string' || typeof job.notification.bucketId !== 'string') throw new Error('queued message is not a Herald scheduled job');
    return { kind: 'scheduled', notification: { id: job.notification.id, bucketId: job.notification.bucketId } };
  }
  return parseDeliveryJob(body);
}
