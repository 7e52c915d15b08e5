import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeliveryHandler } from '../../lambdas/delivery';
import { SnsPushGateway } from '../../lambdas/core/push/sns-gateway';
import { parseDeliveryJob, SqsNotificationQueue } from '../../lambdas/core/queue';
import { createStore } from '../../lambdas/core/store/table';
import { SqsEventSource } from '../../lambdas/local/sqs-event-source';
import { attr, dynamoIdentity, faultCounts, Ledger, outcomePair, stableNames, type LedgerSnapshot } from './chaos-ledger';
import { faultError, fastRetries, FaultPlan, injectFaults } from './faults';

/**
 * The delivery side of the chaos run: Lambda's event source mapping (the local `SqsEventSource`)
 * invoking the real delivery handler, whose DynamoDB and SQS clients fail a seeded tenth of their
 * calls and whose SNS Publish is a mock that fails a tenth of its calls. It runs in child processes
 * (delivery-process.ts), so that the run uses both cores; each keeps its own ledger.
 */
export interface DeliveryConfig {
  readonly seed: number;
  readonly faultRate: number;
  readonly sdkAttempts: number;
  readonly claimTimeoutMs: number;
  readonly pollers: number;
  readonly batchSize: number;
  readonly tableName: string;
  readonly queueUrl: string;
  readonly bucketId: string;
  /** SNS endpoint ARN → device id. */
  readonly endpointDevice: [string, string][];
  /** Date.now() at the start of the run, shared by every process's timeline. */
  readonly epoch: number;
}

export interface DeliveryResult {
  readonly ledger: LedgerSnapshot;
  readonly faults: [string, number][];
  readonly invocationMs: number[];
  readonly pollerErrors: number;
}

export function startDelivery(config: DeliveryConfig): { stop(): Promise<DeliveryResult> } {
  const ledger = new Ledger(config.epoch);
  const plan = new FaultPlan(config.seed, config.faultRate);
  const stable = stableNames(ledger, config.bucketId);
  const endpointDevice = new Map(config.endpointDevice);
  const invocationMs: number[] = [];
  let pollerErrors = 0;

  const dynamo = new DynamoDBClient({ retryStrategy: fastRetries(config.sdkAttempts) });
  const sqs = new SQSClient({ retryStrategy: fastRetries(config.sdkAttempts) });
  const pollerSqs = new SQSClient({ retryStrategy: fastRetries(config.sdkAttempts) });
  injectFaults(dynamo, 'dynamodb', plan, dynamoIdentity(stable), {
    onSent(command, input, fault, error) {
      const pair = outcomePair(input);
      if (!pair) return;
      const item = input.Item as Record<string, unknown> | undefined;
      ledger.event(pair, `${command} ${command === 'PutItem' ? attr(item?.status) : command === 'UpdateItem' ? 'takeover' : ''} ${error ? (error as Error).name : (fault?.kind ?? 'ok')}`);
      if (error) return;
      // A stale claim taken over on the server: what a repeated publish must follow.
      if (command === 'UpdateItem' && String(input.ConditionExpression).includes('claimedAt = :old')) ledger.bump(ledger.takeovers, pair);
      if (fault && command === 'PutItem' && attr(item?.status) === 'publishing') ledger.cause(pair, 'claim write reply lost');
    },
    onSettled(command, input, error) {
      const pair = outcomePair(input);
      if (!pair || !error) return;
      ledger.event(pair, `${command} settled ${(error as Error).name}`);
      // A push that went out and whose outcome could not be recorded (every SDK try failed).
      if (command === 'PutItem' && attr((input.Item as Record<string, unknown>).status) === 'sent') {
        ledger.bump(ledger.unknownPublishes, pair);
        ledger.cause(pair, 'outcome write failed after the publish');
      }
    },
  });
  injectFaults(sqs, 'sqs', plan, (command, input) => (command === 'SendMessageBatch' ? `continue ${(input.Entries as unknown[]).length}` : command));
  // Lambda's event source mapping polls with SQS's at-least-once semantics: lost receives and
  // deletes make messages reappear, which is what redelivery is.
  injectFaults(pollerSqs, 'sqs-poller', plan, (command) => command, { spare: ['GetQueueAttributes'] });

  const sns = mockClient(SNSClient);
  let publishCalls = 0;
  let publishCallsAtReset = 0;
  sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    const message = JSON.parse(input.Message!) as Record<string, string>;
    const notificationId: string = message.GCM
      ? JSON.parse(message.GCM).fcmV1Message.message.data.herald_id
      : JSON.parse(message.APNS ?? message.APNS_SANDBOX!).herald.id;
    const deviceId = endpointDevice.get(input.TargetArn!)!;
    const pair = Ledger.pair(notificationId, deviceId);
    const fault = plan.decide('sns', 'Publish', `${ledger.indexOfId.get(notificationId)}/${deviceId}`);
    ledger.event(pair, `Publish ${fault?.kind ?? 'ok'}`);
    if (fault && fault.kind !== 'lost_reply') {
      // Refused before sending: nothing published. A 5xx leaves the outcome unknown to Herald.
      if (fault.kind === 'server') ledger.cause(pair, 'SNS 5xx');
      throw faultError(fault.kind, fault.errorName);
    }
    ledger.bump(ledger.publishes, pair);
    publishCalls += 1;
    if (fault) {
      ledger.bump(ledger.unknownPublishes, pair);
      ledger.cause(pair, 'SNS reply lost');
      throw faultError(fault.kind, fault.errorName);
    }
    return { MessageId: `sns-${notificationId.slice(-8)}-${deviceId.slice(0, 6)}` };
  });

  const store = createStore(config.tableName, dynamo);
  const queue = new SqsNotificationQueue(config.queueUrl, sqs);
  type DeliveryHandler = ReturnType<typeof createDeliveryHandler>;
  const newEnvironment = (): DeliveryHandler =>
    createDeliveryHandler({
      store,
      gateway: new SnsPushGateway(new SNSClient({})),
      claimTimeoutMs: config.claimTimeoutMs,
      continueWith: (notification, cursor) => queue.enqueue([{ notification, cursor }]),
      // SNS throttling backs off for real, at a tenth of the production waits to fit the run.
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / 10)),
    });
  // Lambda runs one invocation at a time per execution environment, and more environments for
  // concurrent batches: each environment is its own handler instance (the handler's Powertools
  // BatchProcessor is per instance and not safe for concurrent invocations).
  const idle: DeliveryHandler[] = [];
  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    for (const record of event.Records) ledger.learn(parseDeliveryJob(record.body));
    const environment = idle.pop() ?? newEnvironment();
    const begun = performance.now();
    try {
      return (await environment(event, context)) as SQSBatchResponse;
    } finally {
      invocationMs.push(performance.now() - begun);
      idle.push(environment);
      // The ledger keeps what the run needs; the mock's call history would only fill the heap.
      // (Never reset from inside the mock's fake: the call in progress would then fail.)
      if (publishCalls - publishCallsAtReset > 5000) {
        sns.resetHistory();
        publishCallsAtReset = publishCalls;
      }
    }
  };
  const eventSource = new SqsEventSource({
    sqs: pollerSqs,
    queueUrl: config.queueUrl,
    handler,
    batchSize: config.batchSize,
    concurrency: config.pollers,
    waitTimeSeconds: 1,
    // middy answers a Lambda timeout early but cannot stop the work, which would go on orphaned:
    // a function timeout the invocations never reach (they are timed and reported instead).
    timeoutMs: 60_000,
    onError: (error) => {
      // Lost receives and deletes are expected; anything else is the harness's own failure.
      if (pollerErrors === 0 && !/injected/.test(String((error as Error)?.message))) console.error('chaos delivery: first unexpected poller error', error);
      pollerErrors += 1;
    },
  });
  eventSource.start();

  return {
    async stop() {
      await eventSource.stop();
      sns.restore();
      return { ledger: ledger.snapshot(), faults: faultCounts(plan), invocationMs, pollerErrors };
    },
  };
}
