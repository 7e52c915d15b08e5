import { Duration, Token } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface NotificationQueueProps {
  /** The delivery function's timeout; the visibility timeout is six times it (AWS's guidance). */
  readonly deliveryTimeout: Duration;
  /**
   * Receives before a message moves to the dead-letter queue; AWS recommends at least 5.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long a dead letter is kept for inspection and redrive.
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * The queue between ingest and delivery, and its dead-letter queue: both encrypted (SQS-managed
 * SSE) and refusing non-TLS access.
 */
export class NotificationQueue extends Construct {
  public readonly queue: sqs.IQueue;
  public readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: NotificationQueueProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (!Token.isUnresolved(maxReceiveCount) && (maxReceiveCount < 5 || maxReceiveCount > 1000)) {
      throw new Error(`maxReceiveCount must be between 5 and 1000 (given ${maxReceiveCount})`);
    }
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.deliveryTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }
}
