import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Api } from './api';
import { Delivery } from './delivery';
import { Monitoring } from './monitoring';
import { PushPlatforms } from './push-platforms';
import { NotificationQueue } from './queue';
import { Store } from './store';

export interface HeraldStackProps extends StackProps {
  /**
   * Secrets Manager secret holding the APNs token-auth key as JSON
   * (`{signingKey, keyId, teamId, bundleId}`).
   * @default - no APNs: iOS devices are stored but get a "platform not configured" outcome
   */
  readonly apnsSecretName?: string;
  /**
   * APNs gateways to create platform applications for.
   * @default ['production', 'sandbox']
   */
  readonly apnsEnvironments?: ('production' | 'sandbox')[];
  /**
   * Secrets Manager secret holding the FCM v1 service-account JSON.
   * @default - no FCM: Android devices get a "platform not configured" outcome
   */
  readonly fcmSecretName?: string;
  /**
   * Change after rotating a push secret so the platform applications re-read it on deploy.
   * @default '1'
   */
  readonly pushSecretRevision?: string;
  /**
   * E-mail address subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmail?: string;
}

/** Herald: HTTP API → ingest Lambda → SQS → delivery Lambda → SNS mobile push (APNs, FCM). */
export class HeraldStack extends Stack {
  public readonly api: Api;

  constructor(scope: Construct, id: string, props: HeraldStackProps = {}) {
    super(scope, id, props);
    const deliveryTimeout = Duration.seconds(60);

    const store = new Store(this, 'Store');
    const queue = new NotificationQueue(this, 'Queue', { deliveryTimeout });
    const push = new PushPlatforms(this, 'PushPlatforms', {
      apnsSecretName: props.apnsSecretName,
      apnsEnvironments: props.apnsEnvironments,
      fcmSecretName: props.fcmSecretName,
      revision: props.pushSecretRevision,
    });
    const apps = push.platformApplicationArns;
    const platformEnvironment: Record<string, string> = {
      ...(apps.APNS ? { HERALD_APNS_APP_ARN: apps.APNS } : {}),
      ...(apps.APNS_SANDBOX ? { HERALD_APNS_SANDBOX_APP_ARN: apps.APNS_SANDBOX } : {}),
      ...(apps.GCM ? { HERALD_FCM_APP_ARN: apps.GCM } : {}),
    };

    this.api = new Api(this, 'Api', { table: store.table, queue: queue.queue, platformEnvironment });
    push.grantEndpointManagement(this.api.ingestFunction);

    const delivery = new Delivery(this, 'Delivery', { table: store.table, queue: queue.queue, timeout: deliveryTimeout });
    push.grantPublish(delivery.function);

    const monitoring = new Monitoring(this, 'Monitoring', {
      httpApi: this.api.httpApi,
      queue: queue.queue,
      deadLetterQueue: queue.deadLetterQueue,
      functions: { Ingest: this.api.ingestFunction, Delivery: delivery.function },
      alarmEmail: props.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Herald API base URL' });
    new CfnOutput(this, 'AuthentikWebhookUrl', {
      value: `${this.api.url}/transform?parser=ZENTIK_AUTHENTIK&magicCode=<magic code>`,
      description: 'Paste into an authentik "Webhook (generic)" notification transport, with the magic code of `herald bucket create`',
    });
    new CfnOutput(this, 'DashboardUrl', { value: monitoring.dashboardUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.alarmTopic.topicArn });
    new CfnOutput(this, 'TableName', { value: store.table.tableName });
    new CfnOutput(this, 'QueueUrl', { value: queue.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: queue.deadLetterQueue.queueUrl });
  }
}
