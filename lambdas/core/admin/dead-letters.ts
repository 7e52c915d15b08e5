import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { mapWithConcurrency } from '../concurrency';
import { parseQueuedJob, type DeliveryJob, type ScheduledJob } from '../queue';
import { getDeliveryFailure, type DeliveryFailure } from '../store/failures';
import type { Store } from '../store/table';

/**
 * The notification queue's dead letters: what is in the DLQ and why (`herald dlq list`), and moving
 * it back to the queue (`herald dlq redrive`). Redriven notifications are still pushed at most once
 * per device: delivery claims each (notification, device) pair before publishing
 * (store/outcomes.ts), so the devices an earlier attempt served are skipped.
 */

export type RedriveStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

/** A move of the DLQ's messages back to the notification queue, as SQS's ListMessageMoveTasks reports it. */
export interface RedriveTask {
  /** Only while it runs (SQS hands out no handle for a finished task). */
  readonly taskHandle?: string;
  readonly status: RedriveStatus;
  readonly startedAt: string;
  readonly messagesMoved: number;
  /** Counted when the task started. */
  readonly messagesToMove?: number;
  readonly failureReason?: string;
}

/**
 * Moves the DLQ's messages back to the notification queue. In the cloud, an SQS message move task
 * (`SqsMessageMoveRedrive`); local mode's SQS stand-in has none, so it moves them itself.
 */
export interface DeadLetterRedrive {
  /** Starts moving every message now in the DLQ; returns the task's handle. */
  start(): Promise<{ taskHandle: string }>;
  /** The most recent tasks (up to 10), newest first. */
  list(): Promise<RedriveTask[]>;
}

/** What the admin API needs for the dead-letter routes. */
export interface DeadLetterDeps {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  readonly redrive: DeadLetterRedrive;
}

/** Redrive with SQS's own message move task, from the DLQ to the notification queue. */
export class SqsMessageMoveRedrive implements DeadLetterRedrive {
  constructor(
    private readonly sqs: SQSClient,
    private readonly deadLetterQueueArn: string,
    private readonly queueArn: string,
  ) {}

  async start(): Promise<{ taskHandle: string }> {
    // No MaxNumberOfMessagesPerSecond: SQS picks the rate; delivery scales with the queue.
    const { TaskHandle } = await this.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: this.deadLetterQueueArn, DestinationArn: this.queueArn }));
    if (!TaskHandle) throw new Error('SQS started a message move task without a TaskHandle');
    return { taskHandle: TaskHandle };
  }

  async list(): Promise<RedriveTask[]> {
    const { Results = [] } = await this.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: this.deadLetterQueueArn, MaxResults: 10 }));
    return Results.map((entry) => ({
      ...(entry.TaskHandle ? { taskHandle: entry.TaskHandle } : {}),
      status: (entry.Status ?? 'RUNNING') as RedriveStatus,
      startedAt: new Date(entry.StartedTimestamp ?? 0).toISOString(),
      messagesMoved: entry.ApproximateNumberOfMessagesMoved ?? 0,
      ...(entry.ApproximateNumberOfMessagesToMove !== undefined ? { messagesToMove: entry.ApproximateNumberOfMessagesToMove } : {}),
      ...(entry.FailureReason ? { failureReason: entry.FailureReason } : {}),
    }));
  }
}

/**
 * Starts a redrive unless one is running (SQS allows one move task per queue at a time): then that
 * one's handle is returned, so asking twice is harmless.
 */
export async function startRedrive(redrive: DeadLetterRedrive): Promise<{ taskHandle: string; alreadyRunning: boolean }> {
  const running = (await redrive.list()).find((task) => task.status === 'RUNNING' && task.taskHandle);
  if (running) return { taskHandle: running.taskHandle!, alreadyRunning: true };
  return { ...(await redrive.start()), alreadyRunning: false };
}

// ---- listing -------------------------------------------------------------------------------------

/** A message in the DLQ, described for people. */
export interface DeadLetter {
  readonly messageId: string;
  readonly notificationId?: string;
  readonly bucketId?: string;
  readonly title?: string;
  /** A continuation page of a large bucket's delivery (its devices after this cursor). */
  readonly page?: boolean;
  /** SQS's ApproximateReceiveCount: the notification queue's receives, plus looks at the DLQ (this one included). */
  readonly receiveCount: number;
  readonly firstReceivedAt?: string;
  readonly sentAt: string;
  /** Why its last delivery attempt failed (recorded by the delivery function), or why it cannot be delivered. */
  readonly reason?: string;
  /** Failed delivery attempts the delivery function recorded for the notification. */
  readonly attempts?: number;
  readonly lastFailedAt?: string;
  /** The start of the body, only for a message that is not a Herald delivery job. */
  readonly body?: string;
}

export interface DeadLetterListing {
  readonly deadLetters: DeadLetter[];
  /** Messages in the DLQ, as SQS counts them (visible and in flight). */
  readonly approximateCount: number;
}

/** How long a listed message stays hidden: released as soon as the listing is done. */
export const PEEK_VISIBILITY_SECONDS = 5;
export const MAX_BODY_SHOWN = 256;

/**
 * Lists up to `limit` dead letters without consuming them: receives them (hidden for a few seconds
 * so that each receive returns others), never deletes, and makes them visible again at once.
 * Each Herald job is joined with the reason its delivery last failed.
 */
export async function peekDeadLetters(deps: Pick<DeadLetterDeps, 'sqs' | 'deadLetterQueueUrl'> & { store: Store }, limit: number): Promise<DeadLetterListing> {
  const { messages, approximateCount } = await peekMessages(deps.sqs, deps.deadLetterQueueUrl, limit);
  const jobs = messages.map((message) => ({ message, job: tryParse(message.Body ?? '') }));
  const notificationIds = [...new Set(jobs.flatMap(({ job }) => ('notification' in job ? [job.notification.id] : [])))];
  const failures = new Map<string, DeliveryFailure>();
  await mapWithConcurrency(notificationIds, 8, async (id) => {
    const failure = await getDeliveryFailure(deps.store, id);
    if (failure) failures.set(id, failure);
  });
  const deadLetters = jobs.map(({ message, job }) => describe(message, job, failures));
  return { deadLetters, approximateCount };
}

async function peekMessages(sqs: SQSClient, queueUrl: string, limit: number): Promise<{ messages: Message[]; approximateCount: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  const approximateCount = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  // In-flight messages count too: another look may release them while this one runs.
  const wanted = Math.min(limit, approximateCount);
  const seen = new Map<string, Message>();
  const received: Message[] = [];
  try {
    // A bound on receives, in case SQS keeps returning messages already seen.
    for (let receives = 0; seen.size < wanted && receives < Math.ceil(wanted / 10) + 3; receives += 1) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, wanted - seen.size),
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          // Long polling asks every SQS server, so an empty answer means nothing more is visible.
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      received.push(...Messages);
      const fresh = Messages.filter((message) => !seen.has(message.MessageId!));
      for (const message of fresh) seen.set(message.MessageId!, message);
      if (fresh.length === 0) break;
    }
  } finally {
    await release(sqs, queueUrl, received);
  }
  return { messages: [...seen.values()], approximateCount };
}

/** Makes peeked messages visible again (a redrive right after a listing moves them too). Best effort: they reappear anyway. */
async function release(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
    } catch {
      // They become visible after PEEK_VISIBILITY_SECONDS.
    }
  }
}

function tryParse(body: string): DeliveryJob | ScheduledJob | { invalid: string } {
  try {
    return parseQueuedJob(body);
  } catch (error) {
    return { invalid: error instanceof SyntaxError ? 'its body is not JSON' : (error as Error).message };
  }
}

function describe(message: Message, job: DeliveryJob | ScheduledJob | { invalid: string }, failures: ReadonlyMap<string, DeliveryFailure>): DeadLetter {
  const attributes = message.Attributes ?? {};
  const firstReceived = attributes.ApproximateFirstReceiveTimestamp;
  const common = {
    messageId: message.MessageId!,
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 0),
    ...(firstReceived ? { firstReceivedAt: new Date(Number(firstReceived)).toISOString() } : {}),
    sentAt: new Date(Number(attributes.SentTimestamp ?? 0)).toISOString(),
  };
  if ('invalid' in job) {
    const body = message.Body ?? '';
    return { ...common, reason: `not a Herald delivery job: ${job.invalid}`, body: body.length > MAX_BODY_SHOWN ? `${body.slice(0, MAX_BODY_SHOWN - 1)}…` : body };
  }
  // A scheduled job (queued by EventBridge Scheduler) carries only the notification's ids.
  const notification: { id: string; bucketId: string; title?: unknown } = job.notification;
  const failure = failures.get(notification.id);
  return {
    ...common,
    notificationId: notification.id,
    bucketId: notification.bucketId,
    ...(typeof notification.title === 'string' ? { title: notification.title } : {}),
    ...(job.kind !== 'scheduled' && job.cursor ? { page: true } : {}),
    ...(job.kind === 'clear' ? { clear: true } : {}),
    ...(failure ? { reason: failure.reason, attempts: failure.attempts, lastFailedAt: failure.lastAt } : {}),
  };
}
