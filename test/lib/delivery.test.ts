import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Delivery, type DeliveryProps } from '../../lib/delivery';

const FUNCTION = 'AWS::Lambda::Function';
const MAPPING = 'AWS::Lambda::EventSourceMapping';
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/herald';

/** A stack whose NodejsFunctions are not bundled: these tests are about the template (test/lib/herald-stack.test.ts bundles). */
function setUp() {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
  const table = dynamodb.Table.fromTableArn(stack, 'Table', TABLE_ARN);
  const queue = new sqs.Queue(stack, 'Queue', { visibilityTimeout: Duration.seconds(360) });
  return { stack, table, queue };
}

function synth(props: Partial<DeliveryProps> = {}) {
  const { stack, table, queue } = setUp();
  const delivery = new Delivery(stack, 'Delivery', { table, queue, timeout: Duration.seconds(60), ...props });
  return { template: Template.fromStack(stack), stack, queue, delivery };
}

describe('Delivery', () => {
  let template: Template;
  let queueId: string;
  let functionId: string;
  beforeAll(() => {
    const synthesized = synth();
    template = synthesized.template;
    queueId = synthesized.stack.getLogicalId(synthesized.queue.node.defaultChild as sqs.CfnQueue);
    functionId = synthesized.stack.getLogicalId(synthesized.delivery.function.node.defaultChild as lambda.CfnFunction);
  });

  test('creates one function, fed by the queue through one event source mapping', () => {
    template.resourceCountIs(FUNCTION, 1);
    template.resourceCountIs(MAPPING, 1);
    template.hasResourceProperties(MAPPING, {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionId },
    });
  });

  test('reads batches of 10 and reports failed messages one by one', () => {
    template.hasResourceProperties(MAPPING, {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('bounds the concurrent invocations the queue drives to 20 by default', () => {
    template.hasResourceProperties(MAPPING, { ScalingConfig: { MaximumConcurrency: 20 } });
  });

  test('runs with the timeout given and 512 MB, on Herald\'s function defaults', () => {
    template.hasResourceProperties(FUNCTION, {
      Timeout: 60,
      MemorySize: 512,
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
  });

  test('tells the function its table and its publish concurrency (16 by default)', () => {
    template.hasResourceProperties(FUNCTION, {
      Environment: { Variables: Match.objectLike({ TABLE_NAME: 'herald', DELIVERY_CONCURRENCY: '16' }) },
    });
  });

  test('may read and write the table, and consume the queue', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
            Resource: [TABLE_ARN],
          }),
          Match.objectLike({
            Action: Match.arrayWith(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']),
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          }),
        ]),
      },
    });
  });

  test('maxConcurrency and publishConcurrency override the defaults', () => {
    // WHEN
    const { template: custom } = synth({ maxConcurrency: 2, publishConcurrency: 1 });

    // THEN
    custom.hasResourceProperties(MAPPING, { ScalingConfig: { MaximumConcurrency: 2 } });
    custom.hasResourceProperties(FUNCTION, {
      Environment: { Variables: Match.objectLike({ DELIVERY_CONCURRENCY: '1' }) },
    });
  });

  test('keeps history for the configured number of days (30 by default)', () => {
    const { stack: custom, table, queue } = setUp();
    new Delivery(custom, 'Delivery', { table, queue, timeout: Duration.seconds(60), historyDays: 7 });
    Template.fromStack(custom).hasResourceProperties(FUNCTION, {
      Environment: { Variables: Match.objectLike({ HISTORY_RETENTION_DAYS: '7' }) },
    });
  });

  test.each([
    ['maxConcurrency', { maxConcurrency: 1 }, /maxConcurrency .*\(given 1\)/],
    ['maxConcurrency', { maxConcurrency: 1001 }, /maxConcurrency .*\(given 1001\)/],
    ['publishConcurrency', { publishConcurrency: 0 }, /publishConcurrency .*\(given 0\)/],
    ['publishConcurrency', { publishConcurrency: 257 }, /publishConcurrency .*\(given 257\)/],
    ['historyDays', { historyDays: 0 }, /historyDays .*\(given 0\)/],
    ['historyDays', { historyDays: 1.5 }, /historyDays .*\(given 1.5\)/],
  ])('refuses a bad %s, naming the value: %j', (_name, props, message) => {
    const { stack: badStack, table, queue } = setUp();

    expect(() => new Delivery(badStack, 'Delivery', { table, queue, timeout: Duration.seconds(60), ...props })).toThrow(message);
  });
});
