import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Monitoring, type MonitoringProps } from '../../lib/monitoring';

const ALARM = 'AWS::CloudWatch::Alarm';
const API_ID = 'a1b2c3d4e5';

/** Monitoring depends on interfaces only, so imported resources stand in: no bundling, readable ids. */
function setUp(functionNames: string[] = ['Ingest', 'Delivery']) {
  const stack = new Stack(new App(), 'Test');
  const httpApi = apigwv2.HttpApi.fromHttpApiAttributes(stack, 'HttpApi', { httpApiId: API_ID });
  const queue = sqs.Queue.fromQueueArn(stack, 'Queue', 'arn:aws:sqs:us-east-1:123456789012:herald-queue');
  const deadLetterQueue = sqs.Queue.fromQueueArn(stack, 'DeadLetterQueue', 'arn:aws:sqs:us-east-1:123456789012:herald-dlq');
  const functions = Object.fromEntries(
    functionNames.map((name) => [name, lambda.Function.fromFunctionArn(stack, name, `arn:aws:lambda:us-east-1:123456789012:function:herald-${name.toLowerCase()}`)]),
  );
  return { stack, props: { httpApi, queue, deadLetterQueue, functions } };
}

function synth(props: Partial<MonitoringProps> = {}, functionNames?: string[]) {
  const { stack, props: base } = setUp(functionNames);
  const monitoring = new Monitoring(stack, 'Monitoring', { ...base, ...props });
  return { stack, monitoring, template: Template.fromStack(stack) };
}

describe('Monitoring', () => {
  let template: Template;
  let stack: Stack;
  let monitoring: Monitoring;
  let topicRef: { Ref: string };
  beforeAll(() => {
    ({ stack, monitoring, template } = synth());
    topicRef = stack.resolve(monitoring.alarmTopic.topicArn);
  });

  describe('alarm topic', () => {
    test('is one SNS topic', () => {
      template.resourceCountIs('AWS::SNS::Topic', 1);
      expect(topicRef).toEqual({ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) });
    });

    test('refuses publishing without TLS', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topicRef],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: topicRef,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    test('has no subscription without alarmEmail', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    test('subscribes alarmEmail', () => {
      const { template: withEmail, stack: emailStack, monitoring: emailMonitoring } = synth({ alarmEmail: 'ops@example.com' });

      withEmail.resourceCountIs('AWS::SNS::Subscription', 1);
      withEmail.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: emailStack.resolve(emailMonitoring.alarmTopic.topicArn),
      });
    });

    test.each(['nope', 'ops@example', '@example.com', 'ops @example.com'])('refuses alarmEmail %j, naming it', (alarmEmail) => {
      const { stack: badStack, props } = setUp();

      expect(() => new Monitoring(badStack, 'Monitoring', { ...props, alarmEmail })).toThrow(
        new RegExp(`alarmEmail .*\\(given "${alarmEmail}"\\)`),
      );
    });
  });

  describe('alarms', () => {
    test('four for the pipeline and two per function', () => {
      template.resourceCountIs(ALARM, 4 + 2 * 2);
      expect(monitoring.alarms).toHaveLength(8);

      const { template: oneFunction } = synth({}, ['Ingest']);
      oneFunction.resourceCountIs(ALARM, 4 + 2);
    });

    test('every alarm notifies the topic when it fires and when it clears', () => {
      const alarms = Object.values(template.findResources(ALARM));

      expect(alarms).toHaveLength(8);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
        expect(alarm.Properties.OKActions).toEqual([topicRef]);
        expect(alarm.Properties.AlarmDescription).toEqual(expect.any(String));
        expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
      }
    });

    test('fires on any message in the dead-letter queue', () => {
      template.hasResourceProperties(ALARM, {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: 'herald-dlq' }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
    });

    test('fires when the oldest queued notification is 10 minutes old, by default', () => {
      template.hasResourceProperties(ALARM, {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: 'herald-queue' }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 600,
      });
    });

    test('maxQueueAge sets the queue-age threshold', () => {
      const { template: custom } = synth({ maxQueueAge: Duration.minutes(2) });

      custom.hasResourceProperties(ALARM, { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 120 });
    });

    test.each([
      ['Ingest', 'Errors'],
      ['Ingest', 'Throttles'],
      ['Delivery', 'Errors'],
      ['Delivery', 'Throttles'],
    ])('fires on any %s function %s', (name, metricName) => {
      template.hasResourceProperties(ALARM, {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: `herald-${name.toLowerCase()}` }],
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        AlarmDescription: Match.stringLikeRegexp(`The ${name} function`),
      });
    });

    test('fires when 1 % of API requests fail with a 5xx (a math expression over 5xx and Count)', () => {
      const apiMetric = (id: string, metricName: string) => ({
        Id: id,
        ReturnData: false,
        MetricStat: {
          Metric: { Namespace: 'AWS/ApiGateway', MetricName: metricName, Dimensions: [{ Name: 'ApiId', Value: API_ID }] },
          Period: 300,
          Stat: 'Sum',
        },
      });

      template.hasResourceProperties(ALARM, {
        Metrics: Match.arrayEquals([
          Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)', ReturnData: true }),
          apiMetric('errors', '5xx'),
          apiMetric('requests', 'Count'),
        ]),
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
    });
  });

  describe('rejected push credentials (PlatformApplicationDisabled)', () => {
    test('fires on one refused publish in 5 minutes, summed over every platform of the delivery function\'s metric', () => {
      const platformMetric = (id: string, platform: string) => ({
        Id: id,
        ReturnData: false,
        MetricStat: {
          Metric: {
            Namespace: 'Herald',
            MetricName: 'PlatformApplicationDisabled',
            Dimensions: Match.arrayWith([{ Name: 'platform', Value: platform }, { Name: 'service', Value: 'herald' }]),
          },
          Period: 300,
          Stat: 'Sum',
        },
      });

      template.hasResourceProperties(ALARM, {
        Metrics: Match.arrayEquals([
          Match.objectLike({ Expression: 'SUM([p0, p1, p2])', ReturnData: true }),
          platformMetric('p0', 'APNS'),
          platformMetric('p1', 'APNS_SANDBOX'),
          platformMetric('p2', 'GCM'),
        ]),
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
      });
    });

    test('says the credentials were rejected and that the notifications are being retried', () => {
      template.hasResourceProperties(ALARM, {
        AlarmDescription: Match.stringLikeRegexp('rejected the push credentials .*\\(expired or revoked key.*The notifications are kept and retried'),
      });
    });

    test('metricsNamespace applies to it', () => {
      const { template: custom } = synth({ metricsNamespace: 'HeraldStaging' });
      const alarm = Object.values(custom.findResources(ALARM)).find((candidate) => JSON.stringify(candidate).includes('PlatformApplicationDisabled'));

      expect(JSON.stringify(alarm)).toContain('"Namespace":"HeraldStaging"');
    });
  });

  describe('dashboard', () => {
    test('is one dashboard, named for the stack and region', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
        DashboardName: { 'Fn::Join': ['', ['Test-', { Ref: 'AWS::Region' }]] },
      });
    });

    /** The dashboard body's literal text, with the references (region, ids) left out. */
    const bodyText = (t: Template): string => {
      const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
      const [, parts] = dashboard.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
      return parts.filter((part) => typeof part === 'string').join('');
    };

    test('shows every alarm', () => {
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(dashboard.Properties.DashboardBody);

      for (const alarmId of Object.keys(template.findResources(ALARM))) expect(body).toContain(alarmId);
    });

    test('graphs Herald\'s own metrics, by the dimensions the handlers emit', () => {
      const body = bodyText(template);

      expect(body).toMatch(/SEARCH\('\{Herald,parser,service\} MetricName=\W*NotificationsAccepted\W/);
      expect(body).toMatch(/SEARCH\('\{Herald,platform,service\} MetricName=\W*PushesSent\W/);
      expect(body).toMatch(/SEARCH\('\{Herald,platform,service\} MetricName=\W*PushesFailed\W/);
    });

    test('metricsNamespace names the namespace of Herald\'s own metrics', () => {
      const { template: custom } = synth({ metricsNamespace: 'Acme' });

      expect(bodyText(custom)).toContain("SEARCH('{Acme,parser,service}");
    });

    test('dashboardUrl opens the dashboard in the console of the stack\'s region', () => {
      const dashboardId = stack.getLogicalId(monitoring.dashboard.node.defaultChild as cloudwatch.CfnDashboard);

      expect(stack.resolve(monitoring.dashboardUrl)).toEqual({
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: 'AWS::Region' },
            '.console.aws.amazon.com/cloudwatch/home?region=',
            { Ref: 'AWS::Region' },
            '#dashboards:name=',
            { Ref: dashboardId },
          ],
        ],
      });
    });
  });
});
