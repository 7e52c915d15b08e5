import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetterRedrive, RedriveStatus, RedriveTask } from '../core/admin/dead-letters';

interface Task {
  readonly taskHandle: string;
  status: RedriveStatus;
  readonly startedAt: string;
  messagesMoved: number;
  readonly messagesToMove: number;
  failureReason?: string;
}

/**
 * Local mode's redrive: fauxqs has no StartMessageMoveTask, so this moves the DLQ's messages itself,
 * as SQS's move task does: the messages counted when it starts, oldest first, each one received
 * from the DLQ, sent to the notification queue, and only then deleted from the DLQ, so a failure
 * in between leaves a message in the DLQ (or, at worst, in both queues; delivery is idempotent)
 * and never loses it. Like SQS, one task at a time, reported with the same statuses.
 */
export class LocalMessageMover implements DeadLetterRedrive {
  /** Newest first, the last 10, as ListMessageMoveTasks reports them. */
  private readonly tasks: Task[] = [];
  private moving: Promise<void> = Promise.resolve();

  constructor(
    private readonly sqs: SQSClient,
    private readonly deadLetterQueueUrl: string,
    private readonly queueUrl: string,
  ) {}

  async start(): Promise<{ taskHandle: string }> {
    if (this.tasks[0]?.status === 'RUNNING') throw new Error('a message move task is already running for this dead-letter queue');
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    const taskHandle = randomUUID();
    // Messages a listing is looking at count too: they are released within seconds.
    const messagesToMove = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    const task: Task = { taskHandle, status: 'RUNNING', startedAt: new Date().toISOString(), messagesMoved: 0, messagesToMove };
    this.tasks.unshift(task);
    this.tasks.splice(10);
    this.moving = this.move(task);
    return { taskHandle };
  }

  async list(): Promise<RedriveTask[]> {
    return this.tasks.map(({ taskHandle, ...task }) => ({ ...(task.status === 'RUNNING' ? { taskHandle } : {}), ...task }));
  }

  /** Resolves when the running task (if any) has finished: `move` never rejects. */
  idle(): Promise<void> {
    return this.moving;
  }

  private async move(task: Task): Promise<void> {
    try {
      while (task.messagesMoved < task.messagesToMove) {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.deadLetterQueueUrl,
            MaxNumberOfMessages: Math.min(10, task.messagesToMove - task.messagesMoved),
            VisibilityTimeout: 30,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          await this.sqs.send(
            new SendMessageCommand({
              QueueUrl: this.queueUrl,
              MessageBody: message.Body ?? '',
              ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes as Record<string, MessageAttributeValue> } : {}),
            }),
          );
          await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle! }));
          task.messagesMoved += 1;
        }
      }
      task.status = 'COMPLETED';
    } catch (error) {
      task.status = 'FAILED';
      task.failureReason = `${(error as Error).name ?? 'Error'}: ${(error as Error).message ?? ''}`.slice(0, 200);
    }
  }
}
