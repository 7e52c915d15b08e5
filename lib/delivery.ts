import { Duration, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HeraldFunction } from './herald-function';

export interface DeliveryProps {
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  /** The function's timeout; the queue's visibility timeout must be at least six times it. */
  readonly timeout: Duration;
  /**
   * Most concurrent delivery invocations the queue may drive (2–1000), bounding the SNS publish rate.
   * @default 20
   */
  readonly maxConcurrency?: number;
  /**
   * Publishes in flight per invocation.
   * @default 16
   */
  readonly publishConcurrency?: number;
  /**
   * Days each notification and its per-device outcomes stay readable in history.
   * @default 30
   */
  readonly historyDays?: number;
}

/**
 * The delivery Lambda, fed by the notification queue with partial batch responses, so a failed
 * message is retried alone and its batch mates are not re-sent.
 */
export class Delivery extends Construct {
  public readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 20;
    if (!Token.isUnresolved(maxConcurrency) && (maxConcurrency < 2 || maxConcurrency > 1000)) {
      throw new Error(`maxConcurrency must be between 2 and 1000 (given ${maxConcurrency})`);
    }
    const publishConcurrency = props.publishConcurrency ?? 16;
    const historyDays = props.historyDays ?? 30;
    if (!Number.isInteger(historyDays) || historyDays < 1 || historyDays > 3650) {
      throw new Error(`historyDays must be a whole number of days between 1 and 3650 (given ${historyDays})`);
    }
    if (publishConcurrency < 1 || publishConcurrency > 256) {
      throw new Error(`publishConcurrency must be between 1 and 256 (given ${publishConcurrency})`);
    }
    const fn = new HeraldFunction(this, 'Function', {
      entry: 'delivery',
      description: 'Herald delivery: pushes each queued notification to the devices of its bucket through SNS',
      timeout: props.timeout,
      memorySize: 512,
      environment: {
        TABLE_NAME: props.table.tableName,
        // Large buckets continue on this same queue, a page of devices per message.
        QUEUE_URL: props.queue.queueUrl,
        DELIVERY_CONCURRENCY: String(publishConcurrency),
        // A device claimed by an attempt that outlived the function's timeout was never recorded.
        CLAIM_TIMEOUT_SECONDS: String(props.timeout.toSeconds() + 30),
        HISTORY_RETENTION_DAYS: String(historyDays),
      },
    });
    props.table.grantReadWriteData(fn);
    props.queue.grantSendMessages(fn);
    fn.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
    this.function = fn;
  }
}
