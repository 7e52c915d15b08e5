import { CfnOutput, Duration, Stack, Token, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { Construct } from 'constructs';
import { AdminApi } from './admin';
import { Api, type ApiDomainProps } from './api';
import { Delivery } from './delivery';
import { EndpointLifecycle } from './lifecycle';
import { Monitoring } from './monitoring';
import { PushPlatforms } from './push-platforms';
import { NotificationQueue } from './queue';
import { ScheduledDelivery } from './schedules';
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
  /**
   * Days notifications stay in their bucket's history with their per-device outcomes.
   * @default 30
   */
  readonly historyDays?: number;
  /**
   * A custom domain for the API (e.g. `push.example.com`), so the webhook URLs pasted into identity
   * providers survive a re-created stack. Requires `certificateArn`; after deploying, point a CNAME
   * or alias record at the `DomainTarget` output.
   * @default - none: the URLs are the API's execute-api endpoint
   */
  readonly domainName?: string;
  /**
   * ARN of an ACM certificate covering `domainName`, in the stack's region.
   * @default - none; required with `domainName`
   */
  readonly certificateArn?: string;
}

/** Herald: HTTP API → ingest Lambda → SQS → delivery Lambda → SNS mobile push (APNs, FCM). */
export class HeraldStack extends Stack {
  public readonly api: Api;
  public readonly admin: AdminApi;

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

    const domain = customDomain(this, props);
    this.api = new Api(this, 'Api', { table: store.table, queue: queue.queue, platformEnvironment, domain });
    push.grantEndpointManagement(this.api.ingestFunction);

    this.admin = new AdminApi(this, 'Admin', {
      httpApi: this.api.httpApi,
      table: store.table,
      queue: queue.queue,
      deadLetterQueue: queue.deadLetterQueue,
      platformEnvironment,
    });
    // Deleting a device or a bucket deletes the devices' SNS endpoints.
    push.grantEndpointManagement(this.admin.function);

    // Notifications due more than 15 minutes ahead: ingest schedules them, admin cancels them.
    const schedules = new ScheduledDelivery(this, 'Schedules', { queue: queue.queue, deadLetterQueue: queue.deadLetterQueue });
    schedules.grantScheduling(this.api.ingestFunction);
    schedules.grantScheduling(this.admin.function);

    const delivery = new Delivery(this, 'Delivery', { table: store.table, queue: queue.queue, timeout: deliveryTimeout, historyDays: props.historyDays });
    push.grantPublish(delivery.function);

    // Pruning disabled devices daily, and SNS's endpoint events applied to devices.
    const lifecycle = new EndpointLifecycle(this, 'Lifecycle', { table: store.table, eventTopic: push.eventTopic });
    push.grantEndpointDeletion(lifecycle.maintenanceFunction);

    const monitoring = new Monitoring(this, 'Monitoring', {
      httpApi: this.api.httpApi,
      queue: queue.queue,
      deadLetterQueue: queue.deadLetterQueue,
      functions: {
        Ingest: this.api.ingestFunction,
        Delivery: delivery.function,
        Admin: this.admin.function,
        Maintenance: lifecycle.maintenanceFunction,
        ...(lifecycle.feedbackFunction ? { Feedback: lifecycle.feedbackFunction } : {}),
      },
      alarmEmail: props.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Herald API base URL' });
    new CfnOutput(this, 'AuthentikWebhookUrl', {
      value: `${this.api.url}/transform?parser=ZENTIK_AUTHENTIK&magicCode=<magic code>`,
      description: 'Paste into an authentik "Webhook (generic)" notification transport, with the magic code of `herald bucket create`',
    });
    if (this.api.domainTarget) {
      new CfnOutput(this, 'DomainTarget', {
        value: this.api.domainTarget,
        description: `Point a CNAME (or alias) record for ${domain!.domainName} at this host name`,
      });
    }
    new CfnOutput(this, 'DashboardUrl', { value: monitoring.dashboardUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.alarmTopic.topicArn });
    new CfnOutput(this, 'TableName', { value: store.table.tableName });
    new CfnOutput(this, 'QueueUrl', { value: queue.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: queue.deadLetterQueue.queueUrl });
  }
}

/**
 * The custom domain from the props: both or neither of `domainName` and `certificateArn`. The
 * certificate is imported by ARN; it must be in the stack's region (API Gateway's regional endpoint).
 */
function customDomain(scope: Stack, props: HeraldStackProps): ApiDomainProps | undefined {
  const { domainName, certificateArn } = props;
  if (domainName === undefined && certificateArn === undefined) return undefined;
  if (domainName === undefined) {
    throw new Error(`HeraldStack: certificateArn is set (given "${certificateArn}") but domainName is not: set both, or neither`);
  }
  if (certificateArn === undefined) {
    throw new Error(`HeraldStack: domainName is set (given "${domainName}") but certificateArn is not: an ACM certificate for it is required`);
  }
  if (!Token.isUnresolved(certificateArn)) {
    if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn)) {
      throw new Error(`HeraldStack: certificateArn must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id> (given "${certificateArn}")`);
    }
    const certificateRegion = certificateArn.split(':')[3];
    if (!Token.isUnresolved(scope.region) && certificateRegion !== scope.region) {
      throw new Error(`HeraldStack: certificateArn must be in the stack's region ${scope.region} for a regional API domain (given "${certificateArn}")`);
    }
  }
  return { domainName, certificate: acm.Certificate.fromCertificateArn(scope, 'Certificate', certificateArn) };
}
