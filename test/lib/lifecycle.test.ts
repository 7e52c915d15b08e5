import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EndpointLifecycle, type EndpointLifecycleProps } from '../../lib/lifecycle';

const FUNCTION = 'AWS::Lambda::Function';
const QUEUE = 'AWS::SQS::Queue';
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/herald';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:herald-events';

/** Imported table and topic, unbundled functions: these tests are about the template. */
function synth(props: Partial<EndpointLifecycleProps> & { withTopic?: boolean } = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const table = dynamodb.Table.fromTableArn(stack, 'Table', TABLE_ARN);
  const { withTopic = true, ...rest } = props;
  const eventTopic = withTopic ? sns.Topic.fromTopicArn(stack, 'EventTopic', TOPIC_ARN) : undefined;
  const lifecycle = new EndpointLifecycle(stack, 'Lifecycle', { table, eventTopic, ...rest });
  const id = (construct: lambda.IFunction | sqs.IQueue | undefined) => stack.getLogicalId(construct!.node.defaultChild as lambda.CfnFunction);
  return { app, stack, lifecycle, template: Template.fromStack(stack), id };
}

describe('EndpointLifecycle', () => {
  describe('pruning', () => {
    test('runs the maintenance function once a day from an EventBridge schedule, retrying a failed run', () => {
      const { template, lifecycle, id } = synth({ withTopic: false });

      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 day)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id(lifecycle.maintenanceFunction), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [id(lifecycle.maintenanceFunction), 'Arn'] },
      });
    });

    test('the maintenance function prunes after 30 days by default, within 5 minutes, on Herald\'s function defaults', () => {
      const { template } = synth({ withTopic: false });

      template.hasResourceProperties(FUNCTION, {
        Description: Match.stringLikeRegexp('^Herald maintenance'),
        Timeout: 300,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: Match.objectLike({ PRUNE_AFTER_DAYS: '30', TABLE_NAME: 'herald' }) },
      });
    });

    test('pruneAfterDays and the schedule are settable', () => {
      const { template } = synth({ withTopic: false, pruneAfterDays: 14, maintenanceSchedule: events.Schedule.cron({ hour: '3', minute: '0' }) });

      template.hasResourceProperties(FUNCTION, { Environment: { Variables: Match.objectLike({ PRUNE_AFTER_DAYS: '14' }) } });
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
    });

    test('without an event topic there is no feedback consumer', () => {
      const { template, lifecycle } = synth({ withTopic: false });

      template.resourceCountIs(FUNCTION, 1);
      template.resourceCountIs(QUEUE, 0);
      template.resourceCountIs('AWS::SNS::Subscription', 0);
      expect(lifecycle.feedbackFunction).toBeUndefined();
    });
  });

  describe('delivery feedback', () => {
    let synthesized: ReturnType<typeof synth>;
    beforeAll(() => {
      synthesized = synth();
    });

    test('subscribes the feedback queue to the event topic with raw message delivery', () => {
      const { template, lifecycle, id } = synthesized;

      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sqs',
        TopicArn: TOPIC_ARN,
        RawMessageDelivery: true,
        Endpoint: { 'Fn::GetAtt': [id(lifecycle.feedbackQueue), 'Arn'] },
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'sns.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': TOPIC_ARN } } }),
          ]),
        },
      });
    });

    test('the feedback queue and its dead-letter queue are encrypted, refuse non-TLS access, and dead-letter after 5 receives', () => {
      const { template, lifecycle, id } = synthesized;

      template.resourceCountIs(QUEUE, 2);
      template.allResourcesProperties(QUEUE, { SqsManagedSseEnabled: true });
      template.hasResourceProperties(QUEUE, {
        VisibilityTimeout: 180,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(lifecycle.feedbackDeadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
      });
      for (const queue of [lifecycle.feedbackQueue, lifecycle.feedbackDeadLetterQueue]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id(queue) }],
          PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
        });
      }
    });

    test('the feedback function reads the queue in batches, reporting failed records one by one', () => {
      const { template, lifecycle, id } = synthesized;

      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [id(lifecycle.feedbackQueue), 'Arn'] },
        FunctionName: { Ref: id(lifecycle.feedbackFunction) },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      template.hasResourceProperties(FUNCTION, {
        Description: Match.stringLikeRegexp('^Herald feedback'),
        Timeout: 30,
        Environment: { Variables: Match.objectLike({ TABLE_NAME: 'herald' }) },
      });
    });

    test('both functions may use the table', () => {
      const { template, lifecycle, stack } = synthesized;

      for (const fn of [lifecycle.maintenanceFunction, lifecycle.feedbackFunction!]) {
        template.hasResourceProperties('AWS::IAM::Policy', {
          Roles: [{ Ref: stack.getLogicalId(fn.role!.node.defaultChild as lambda.CfnFunction) }],
          PolicyDocument: {
            Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']), Resource: Match.arrayWith([TABLE_ARN]) })]),
          },
        });
      }
    });

    test('cdk-nag AwsSolutions finds nothing unacknowledged', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Test');
      new EndpointLifecycle(stack, 'Lifecycle', {
        table: dynamodb.Table.fromTableArn(stack, 'Table', TABLE_ARN),
        eventTopic: sns.Topic.fromTopicArn(stack, 'EventTopic', TOPIC_ARN),
      });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

      expect(() => app.synth()).not.toThrow();
    });
  });

  describe('props validation', () => {
    test.each<[string, Partial<EndpointLifecycleProps>, string]>([
      ['pruneAfterDays 0', { pruneAfterDays: 0 }, 'pruneAfterDays must be a whole number of days between 1 and 3650 (given 0)'],
      ['a fractional pruneAfterDays', { pruneAfterDays: 1.5 }, '(given 1.5)'],
      ['maxReceiveCount below AWS\'s 5', { maxReceiveCount: 2 }, 'maxReceiveCount must be between 5 and 1000 (given 2)'],
    ])('throws for %s', (_case, props, message) => {
      expect(() => synth(props)).toThrow(message);
    });
  });

  test('exposes the maintenance function and rule whatever the props', () => {
    const { lifecycle } = synth({ withTopic: false, maintenanceSchedule: events.Schedule.rate(Duration.hours(12)) });

    expect(lifecycle.maintenanceFunction).toBeDefined();
    expect(lifecycle.maintenanceRule).toBeDefined();
  });
});
