import { Duration, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HeraldFunction } from './herald-function';

export interface EndpointLifecycleProps {
  readonly table: dynamodb.ITable;
  /**
   * The platform applications' event topic (`PushPlatforms.eventTopic`). With it, a feedback queue
   * is subscribed to it and feeds the feedback function.
   * @default - no feedback consumer (no platform application is configured)
   */
  readonly eventTopic?: sns.ITopic;
  /**
   * Days a device stays disabled before the daily maintenance run deletes it and its endpoint (1–3650).
   * @default 30
   */
  readonly pruneAfterDays?: number;
  /**
   * When the maintenance function runs.
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly maintenanceSchedule?: events.Schedule;
  /**
   * Receives of a feedback event before it moves to the feedback dead-letter queue (5–1000; AWS
   * recommends at least 5).
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/**
 * The device endpoint lifecycle after registration:
 * - **pruning**: a maintenance function, run daily by an EventBridge schedule, deletes devices
 *   disabled for `pruneAfterDays` with their SNS endpoints (lambdas/core/maintenance.ts);
 * - **delivery feedback** (with `eventTopic`): SNS's endpoint events go through an SQS queue (so a
 *   failed update is retried, then kept in a dead-letter queue) to a feedback function, which
 *   disables the devices whose tokens died and counts every event (lambdas/core/feedback.ts).
 *
 * Secure defaults: both queues encrypted (SQS-managed SSE) and refusing non-TLS access; the
 * functions are HeraldFunctions (bounded log retention, tracing, own log group only) with table
 * access; grant the maintenance function endpoint deletion with
 * `PushPlatforms.grantEndpointDeletion`.
 */
export class EndpointLifecycle extends Construct {
  public readonly maintenanceFunction: lambda.IFunction;
  public readonly maintenanceRule: events.Rule;
  /** Present with `eventTopic`. */
  public readonly feedbackFunction?: lambda.IFunction;
  public readonly feedbackQueue?: sqs.IQueue;
  public readonly feedbackDeadLetterQueue?: sqs.IQueue;

  constructor(scope: Construct, id: string, props: EndpointLifecycleProps) {
    super(scope, id);
    const pruneAfterDays = props.pruneAfterDays ?? 30;
    if (!Token.isUnresolved(pruneAfterDays) && (!Number.isInteger(pruneAfterDays) || pruneAfterDays < 1 || pruneAfterDays > 3650)) {
      throw new Error(`pruneAfterDays must be a whole number of days between 1 and 3650 (given ${pruneAfterDays})`);
    }
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (!Token.isUnresolved(maxReceiveCount) && (maxReceiveCount < 5 || maxReceiveCount > 1000)) {
      throw new Error(`maxReceiveCount must be between 5 and 1000 (given ${maxReceiveCount})`);
    }

    const maintenance = new HeraldFunction(this, 'MaintenanceFunction', {
      entry: 'maintenance',
      description: `Herald maintenance: deletes devices disabled for ${pruneAfterDays} days, with their SNS endpoints`,
      // Reads every bucket's devices; minutes, not seconds, for large deployments.
      timeout: Duration.minutes(5),
      environment: { TABLE_NAME: props.table.tableName, PRUNE_AFTER_DAYS: String(pruneAfterDays) },
    });
    props.table.grantReadWriteData(maintenance);
    this.maintenanceFunction = maintenance;
    this.maintenanceRule = new events.Rule(this, 'MaintenanceSchedule', {
      description: 'Runs the Herald maintenance function (pruning disabled devices)',
      schedule: props.maintenanceSchedule ?? events.Schedule.rate(Duration.days(1)),
      // A run is idempotent, so EventBridge's retries of a failed one are safe.
      targets: [new targets.LambdaFunction(maintenance, { retryAttempts: 2 })],
    });

    if (!props.eventTopic) return;
    const feedbackTimeout = Duration.seconds(30);
    const feedbackDeadLetterQueue = new sqs.Queue(this, 'FeedbackDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const feedbackQueue = new sqs.Queue(this, 'FeedbackQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the function's timeout (AWS's guidance for SQS event sources).
      visibilityTimeout: Duration.seconds(feedbackTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: feedbackDeadLetterQueue, maxReceiveCount },
    });
    // Raw delivery: the queue's message body is SNS's event JSON itself, not SNS's envelope around it.
    props.eventTopic.addSubscription(new subscriptions.SqsSubscription(feedbackQueue, { rawMessageDelivery: true }));

    const feedback = new HeraldFunction(this, 'FeedbackFunction', {
      entry: 'feedback',
      description: 'Herald feedback: applies SNS endpoint events and delivery failures to devices, and counts them',
      timeout: feedbackTimeout,
      environment: { TABLE_NAME: props.table.tableName },
    });
    props.table.grantReadWriteData(feedback);
    feedback.addEventSource(new SqsEventSource(feedbackQueue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 5 }));
    this.feedbackFunction = feedback;
    this.feedbackQueue = feedbackQueue;
    this.feedbackDeadLetterQueue = feedbackDeadLetterQueue;
  }
}
