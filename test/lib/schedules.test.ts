import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ScheduledDelivery } from '../../lib/schedules';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-notifications';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-notifications-dlq';

function setUp() {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const queue = sqs.Queue.fromQueueArn(stack, 'Queue', QUEUE_ARN);
  const deadLetterQueue = sqs.Queue.fromQueueArn(stack, 'DeadLetterQueue', DLQ_ARN);
  const schedules = new ScheduledDelivery(stack, 'Schedules', { queue, deadLetterQueue });
  const fn = new lambda.Function(stack, 'Ingest', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
  schedules.grantScheduling(fn);
  return { stack, schedules, fn, template: Template.fromStack(stack) };
}

describe('ScheduledDelivery', () => {
  test('creates one schedule group', () => {
    const { template } = setUp();
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
  });

  test('the role is assumable by EventBridge Scheduler for this account only', () => {
    const { template } = setUp();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ],
      },
    });
  });

  test('the role may send to the notification queue and its dead-letter queue, nothing else', () => {
    const { template, schedules, stack } = setUp();
    const roleId = stack.getLogicalId(schedules.role.node.defaultChild as never);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Effect: 'Allow', Resource: QUEUE_ARN },
      { Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Effect: 'Allow', Resource: DLQ_ARN },
    ]);
  });

  test('a granted function may create and delete schedules in the group only, and pass the role only', () => {
    const { template } = setUp();
    const groupSchedules = Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':schedule/')])] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'], Effect: 'Allow', Resource: groupSchedules },
          { Action: 'scheduler:DeleteSchedule', Effect: 'Allow', Resource: groupSchedules },
          { Action: 'iam:PassRole', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulesRole'), 'Arn'] } },
        ]),
      },
    });
  });

  test('gives a granted function the environment the scheduler reads', () => {
    const { template } = setUp();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          SCHEDULE_GROUP_NAME: Match.anyValue(),
          SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulesRole'), 'Arn'] },
          QUEUE_ARN,
          DEAD_LETTER_QUEUE_ARN: DLQ_ARN,
        },
      },
    });
  });

  test('refuses a function it cannot set the environment of', () => {
    const stack = new Stack(new App(), 'Test');
    const schedules = new ScheduledDelivery(stack, 'Schedules', { queue: sqs.Queue.fromQueueArn(stack, 'Q', QUEUE_ARN), deadLetterQueue: sqs.Queue.fromQueueArn(stack, 'D', DLQ_ARN) });
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:123456789012:function:x');
    expect(() => schedules.grantScheduling(imported)).toThrow(/needs a lambda.Function.*Imported/);
  });
});
