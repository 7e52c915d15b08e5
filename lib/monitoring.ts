import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PlatformKey } from '../lambdas/core/push/types';

export interface MonitoringProps {
  readonly httpApi: apigwv2.IHttpApi;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Every Herald function, by a short name used in alarm ids and descriptions. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /**
   * An e-mail address subscribed to the alarm topic.
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
  /**
   * Age of the oldest queued notification that raises an alarm.
   * @default Duration.minutes(10)
   */
  readonly maxQueueAge?: Duration;
  /** The CloudWatch namespace of Herald's own EMF metrics. @default 'Herald' */
  readonly metricsNamespace?: string;
}

/** The platforms Herald publishes to (the `platform` dimension of its push metrics). */
const PLATFORM_KEYS: readonly PlatformKey[] = ['APNS', 'APNS_SANDBOX', 'GCM'];
/** The `service` dimension Powertools adds to every metric (POWERTOOLS_SERVICE_NAME, set by HeraldFunction). */
const HERALD_SERVICE = 'herald';

interface AlarmSpec {
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly description: string;
}

/**
 * Alarms (to one SNS topic) and a dashboard. The alarms come from one table in a loop: dead
 * letters, queue age, errors and throttles of every function, the API's 5xx rate, and publishes
 * refused because a platform application's push credentials were rejected.
 */
export class Monitoring extends Construct {
  public readonly alarmTopic: sns.ITopic;
  public readonly alarms: cloudwatch.IAlarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    if (props.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
      throw new Error(`alarmEmail must be an e-mail address (given "${props.alarmEmail}")`);
    }
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Herald alarms', enforceSSL: true });
    if (props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.alarmTopic = topic;

    const period = Duration.minutes(5);
    const apiMetric = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApi.apiId },
        statistic,
        period,
      });
    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });
    const queueAge = props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' });
    const api5xxRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { errors: apiMetric('5xx'), requests: apiMetric('Count') },
      label: 'API 5xx rate (%)',
      period,
    });

    const namespace = props.metricsNamespace ?? 'Herald';
    // The delivery function's PlatformApplicationDisabled count (EMF; dimensions service, platform),
    // summed over the platforms, since an alarm takes no SEARCH.
    const platformApplicationDisabled = new cloudwatch.MathExpression({
      expression: `SUM([${PLATFORM_KEYS.map((_, index) => `p${index}`).join(', ')}])`,
      usingMetrics: Object.fromEntries(
        PLATFORM_KEYS.map((platform, index) => [
          `p${index}`,
          new cloudwatch.Metric({ namespace, metricName: 'PlatformApplicationDisabled', dimensionsMap: { service: HERALD_SERVICE, platform }, statistic: 'Sum', period }),
        ]),
      ),
      label: 'Publishes refused: platform application disabled',
      period,
    });

    const specs: AlarmSpec[] = [
      { id: 'DeadLetters', metric: dlqDepth, threshold: 1, description: 'Notifications reached the dead-letter queue: they were not delivered. Inspect and redrive them.' },
      { id: 'QueueAge', metric: queueAge, threshold: (props.maxQueueAge ?? Duration.minutes(10)).toSeconds(), description: 'Notifications wait too long in the queue: delivery is failing or throttled.' },
      { id: 'Api5xxRate', metric: api5xxRate, threshold: 1, description: 'More than 1 % of API requests failed with a 5xx: senders are being refused.' },
      {
        id: 'PlatformApplicationDisabled',
        metric: platformApplicationDisabled,
        threshold: 1,
        description:
          'APNs or FCM rejected the push credentials of a platform application (expired or revoked key, wrong environment): ' +
          'no push reaches that platform. The notifications are kept and retried; rotate the secret and deploy with a new revision.',
      },
      ...Object.entries(props.functions).flatMap(([name, fn]) => [
        { id: `${name}Errors`, metric: fn.metricErrors({ period }), threshold: 1, description: `The ${name} function failed (errors other than a handled client error).` },
        { id: `${name}Throttles`, metric: fn.metricThrottles({ period }), threshold: 1, description: `The ${name} function was throttled: raise its concurrency or lower the load.` },
      ]),
    ];
    for (const spec of specs) {
      const alarm = new cloudwatch.Alarm(this, `${spec.id}Alarm`, {
        metric: spec.metric,
        threshold: spec.threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: spec.description,
      });
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
      this.alarms.push(alarm);
    }

    const search = (metricName: string, dimension: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${namespace},${dimension},service} MetricName="${metricName}"', 'Sum', 300)`,
        usingMetrics: {},
        label,
        period,
      });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-${Aws.REGION}`,
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'API requests', left: [apiMetric('Count')], right: [apiMetric('4xx'), apiMetric('5xx')], width: 12 }),
          new cloudwatch.GraphWidget({ title: 'API latency (ms)', left: [apiMetric('Latency', 'p50'), apiMetric('Latency', 'p99')], width: 12 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Queue',
            left: [props.queue.metricApproximateNumberOfMessagesVisible({ period }), dlqDepth.with({ label: 'Dead letters', period })],
            right: [queueAge.with({ period })],
            width: 12,
          }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Notifications accepted, per parser', left: [search('NotificationsAccepted', 'parser', 'accepted')], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Pushes sent, per platform', left: [search('PushesSent', 'platform', 'sent')], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Pushes failed, per platform', left: [search('PushesFailed', 'platform', 'failed')], width: 8 }),
        ],
      ],
    });
  }

  /** The dashboard's console URL. */
  get dashboardUrl(): string {
    return `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}
