import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Notification } from './notification';

/** One queued delivery: the notification, whole, so delivery needs no second read. */
export interface DeliveryJob {
  readonly notification: Notification;
}

export interface NotificationQueue {
  /** Queues every job or throws; a partial failure throws after naming what was not queued. */
  enqueue(jobs: readonly DeliveryJob[]): Promise<void>;
}

/** SQS allows 10 entries per SendMessageBatch. */
const SQS_BATCH = 10;

export class SqsNotificationQueue implements NotificationQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SQSClient = new SQSClient({}),
  ) {}

  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    for (let start = 0; start < jobs.length; start += SQS_BATCH) {
      const chunk = jobs.slice(start, start + SQS_BATCH);
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((job, index) => ({ Id: String(index), MessageBody: JSON.stringify(job) })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        const first = result.Failed[0]!;
        throw new Error(`SQS refused ${result.Failed.length} of ${chunk.length} messages (${first.Code}: ${first.Message})`);
      }
    }
  }
}

export function parseDeliveryJob(body: string): DeliveryJob {
  const job = JSON.parse(body) as DeliveryJob;
  if (!job?.notification?.id || !job.notification.bucketId) throw new Error('queued message is not a Herald delivery job');
  return job;
}
