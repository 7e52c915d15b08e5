import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface SqsEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn?: string;
  readonly handler: SqsHandler;
  readonly functionName?: string;
  /** @default 10 */
  readonly batchSize?: number;
  /** Concurrent batches, like the event source mapping's maximum concurrency. @default 2 */
  readonly concurrency?: number;
  /** Long-poll wait per receive. @default 1 */
  readonly waitTimeSeconds?: number;
  /** @default 60_000 */
  readonly timeoutMs?: number;
  /** Called when the handler throws (the whole batch is then retried by SQS). */
  readonly onError?: (error: unknown) => void;
}

/**
 * What Lambda's SQS event source mapping does, against any SQS-compatible server: long-poll,
 * invoke the handler with a batch, delete what succeeded. With `reportBatchItemFailures`, the
 * failed messages stay in the queue and reappear after their visibility timeout; SQS itself counts
 * receives and moves a message to the dead-letter queue after `maxReceiveCount`.
 */
export class SqsEventSource {
  private running = false;
  private pollers: Promise<void>[] = [];

  constructor(private readonly options: SqsEventSourceOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pollers = Array.from({ length: this.options.concurrency ?? 2 }, () => this.poll());
  }

  /** Stops polling after the batches in flight finish. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.pollers);
  }

  /** Processes until the queue holds nothing visible or in flight (bounded by `timeoutMs`), then stops. */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.depth()) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.stop();
    return (await this.depth()) === 0;
  }

  /** Visible plus in-flight messages. */
  async depth(): Promise<number> {
    const { Attributes = {} } = await this.options.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (error) {
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** One receive → invoke → delete cycle; returns the number of messages received. */
  async pollOnce(): Promise<number> {
    const { Messages = [] } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: this.options.batchSize ?? 10,
        WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return 0;
    const event: SQSEvent = { Records: Messages.map((message) => this.toRecord(message)) };
    let failed: Set<string>;
    try {
      const response = await this.options.handler(event, lambdaContext(this.options.functionName ?? 'herald-delivery', this.options.timeoutMs ?? 60_000));
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A thrown handler fails the whole batch, as in Lambda.
      this.options.onError?.(error);
      return Messages.length;
    }
    const done = Messages.filter((message) => !failed.has(message.MessageId!));
    if (done.length > 0) {
      await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
    }
    return Messages.length;
  }

  private toRecord(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId!,
      receiptHandle: message.ReceiptHandle!,
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn ?? 'arn:aws:sqs:us-east-1:000000000000:local',
      awsRegion: process.env.AWS_REGION ?? 'us-east-1',
    };
  }
}
