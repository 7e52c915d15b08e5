import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ApnsEnvironment, PlatformKey } from '../lambdas/core/push/types';
import { HeraldFunction } from './herald-function';

export interface PushPlatformsProps {
  /**
   * Name of the Secrets Manager secret holding the APNs token-auth credentials, a JSON object
   * `{"signingKey": "<.p8 contents>", "keyId", "teamId", "bundleId"}` (format in
   * lambdas/core/push/platform-apps.ts and the README). Only the name goes into the template.
   * @default - no APNs platform application
   */
  readonly apnsSecretName?: string;

  /**
   * The APNs gateways to create an application for: `production` (platform `APNS`, App Store and
   * TestFlight builds) and `sandbox` (platform `APNS_SANDBOX`, development builds). One .p8 key
   * works for both. Ignored without `apnsSecretName`.
   * @default ['production', 'sandbox']
   */
  readonly apnsEnvironments?: ApnsEnvironment[];

  /**
   * Name of the Secrets Manager secret holding the Firebase service-account JSON file, as
   * downloaded (FCM HTTP v1). Only the name goes into the template.
   * @default - no FCM platform application
   */
  readonly fcmSecretName?: string;

  /**
   * Prefix of the SNS application names: `<appName>-apns`, `<appName>-apns-sandbox` and
   * `<appName>-fcm`. Letters, digits, `_`, `.` and `-`. Changing it replaces the applications
   * (and so their device endpoints).
   * @default 'herald'
   */
  readonly appName?: string;

  /**
   * Any string; change it (a date, a counter) and deploy after rotating a secret: the changed
   * property makes CloudFormation update the applications, which re-reads the secrets.
   * @default - no revision; a deploy then leaves credentials as they are
   */
  readonly revision?: string;

  /**
   * Percentage (0–100) of successful deliveries SNS logs to CloudWatch Logs; every failed delivery
   * is logged regardless (delivery-status logging, aws-notes.md §1.10). Each logged delivery is a
   * log line Herald pays ingestion for.
   * @default 0
   */
  readonly successFeedbackSampleRate?: number;
}

interface PlatformApplication {
  readonly platform: PlatformKey;
  readonly id: string;
  readonly name: string;
  readonly secret: secretsmanager.ISecret;
}

/**
 * The SNS platform applications Herald publishes through: APNs (token auth; production and
 * sandbox) and FCM (HTTP v1). CloudFormation has no resource for them (aws-notes.md §1.1), so a
 * Provider-framework custom resource with Herald's own onEvent function creates, updates and
 * deletes them, reading the credentials from Secrets Manager at run time. Secure by construction:
 * - the template holds only secret names, and no credential is logged, returned or put in an error;
 * - the function may read only the configured secrets, and manage only SNS platform applications;
 * - both functions' log groups have bounded retention.
 *
 * Each application also reports back (aws-notes.md §1.9, §1.10), since a successful Publish is not
 * a delivered push:
 * - its endpoint events (endpoint updated, endpoint deleted, delivery failure) go to `eventTopic`,
 *   encrypted with a customer-managed key SNS may use (an AWS service publishing to an encrypted
 *   topic cannot use the AWS-managed `aws/sns` key), and refusing publishers without TLS;
 * - delivery-status logging writes every failed delivery (and `successFeedbackSampleRate` % of the
 *   successful ones) to CloudWatch Logs under `sns/<region>/<account>/…`, through a role only SNS
 *   can assume; the onEvent function may pass that role to SNS and no other.
 *
 * With no secret configured it creates nothing.
 */
export class PushPlatforms extends Construct {
  /** The applications' ARNs by platform, for endpoint registration and publishing. */
  public readonly platformApplicationArns: { APNS?: string; APNS_SANDBOX?: string; GCM?: string } = {};

  /**
   * The topic receiving the applications' endpoint events (EndpointUpdated, EndpointDeleted,
   * DeliveryFailure); subscribe only programmatic consumers (aws-notes.md §1.9).
   * Absent when no application is configured.
   */
  public readonly eventTopic?: sns.ITopic;

  /** The role SNS assumes to write delivery-status logs. Absent when no application is configured. */
  public readonly deliveryStatusLoggingRole?: iam.IRole;

  private readonly resources: { platform: PlatformKey; name: string; arn: string }[] = [];

  constructor(scope: Construct, id: string, props: PushPlatformsProps = {}) {
    super(scope, id);
    const appName = props.appName ?? 'herald';
    validateProps(props, appName);

    const apnsSecret =
      props.apnsSecretName === undefined
        ? undefined
        : secretsmanager.Secret.fromSecretNameV2(this, 'ApnsSecret', props.apnsSecretName);
    const fcmSecret =
      props.fcmSecretName === undefined
        ? undefined
        : secretsmanager.Secret.fromSecretNameV2(this, 'FcmSecret', props.fcmSecretName);

    const apnsEnvironments = props.apnsEnvironments ?? ['production', 'sandbox'];
    const applications: PlatformApplication[] = [
      ...(apnsSecret && apnsEnvironments.includes('production')
        ? [{ platform: 'APNS' as const, id: 'ApnsApp', name: `${appName}-apns`, secret: apnsSecret }]
        : []),
      ...(apnsSecret && apnsEnvironments.includes('sandbox')
        ? [{ platform: 'APNS_SANDBOX' as const, id: 'ApnsSandboxApp', name: `${appName}-apns-sandbox`, secret: apnsSecret }]
        : []),
      ...(fcmSecret ? [{ platform: 'GCM' as const, id: 'FcmApp', name: `${appName}-fcm`, secret: fcmSecret }] : []),
    ];
    if (applications.length === 0) return;

    const onEvent = new HeraldFunction(this, 'OnEvent', {
      entry: 'push-platforms',
      description: 'Creates, updates and deletes the SNS platform applications (APNs, FCM) from Secrets Manager',
      timeout: Duration.seconds(30),
    });
    for (const secret of new Set(applications.map((app) => app.secret))) {
      secret.grantRead(onEvent);
    }
    // Any application name: an Update that renames the applications creates new ones, and the old
    // ones are deleted afterwards, under the new policy. The ARN only exists once SNS creates it.
    const anyPlatformApplication = Stack.of(this).formatArn({
      service: 'sns',
      resource: 'app',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    iam.Grant.addToPrincipal({
      grantee: onEvent,
      actions: [
        'sns:CreatePlatformApplication',
        'sns:SetPlatformApplicationAttributes',
        'sns:DeletePlatformApplication',
        'sns:GetPlatformApplicationAttributes',
      ],
      resourceArns: [anyPlatformApplication],
    });

    const feedback = this.createFeedbackResources(onEvent);
    this.eventTopic = feedback.topic;
    this.deliveryStatusLoggingRole = feedback.role;
    const successFeedbackSampleRate = props.successFeedbackSampleRate ?? 0;

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });

    for (const app of applications) {
      const resource = new CustomResource(this, app.id, {
        serviceToken: provider.serviceToken,
        resourceType: 'Custom::SnsPlatformApplication',
        properties: {
          Name: app.name,
          Platform: app.platform,
          SecretId: app.secret.secretName,
          ...(props.revision === undefined ? {} : { Revision: props.revision }),
          // Herald creates the endpoints itself, so EndpointCreated would only echo its own calls.
          EventEndpointUpdated: feedback.topic.topicArn,
          EventEndpointDeleted: feedback.topic.topicArn,
          EventDeliveryFailure: feedback.topic.topicArn,
          FailureFeedbackRoleArn: feedback.role.roleArn,
          SuccessFeedbackRoleArn: feedback.role.roleArn,
          SuccessFeedbackSampleRate: String(successFeedbackSampleRate),
        },
      });
      const arn = resource.getAttString('PlatformApplicationArn');
      this.platformApplicationArns[app.platform] = arn;
      this.resources.push({ platform: app.platform, name: app.name, arn });
    }

    this.acknowledgeNagFindings(onEvent, provider, anyPlatformApplication);
  }

  /**
   * The event topic (with its key) and the delivery-status logging role, and the onEvent
   * function's permission to hand that role to SNS.
   */
  private createFeedbackResources(onEvent: HeraldFunction): { topic: sns.Topic; role: iam.Role } {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'EventTopicKey', {
      description: 'Encrypts the Herald platform-application event topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // SNS itself publishes the applications' events, so it must be able to use the key; only for
    // topics of this account (SNS puts the topic ARN in the encryption context).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSnsToPublishPlatformApplicationEvents',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringLike: { 'kms:EncryptionContext:aws:sns:topicArn': stack.formatArn({ service: 'sns', resource: '*' }) } },
      }),
    );
    const topic = new sns.Topic(this, 'EventTopic', {
      displayName: 'Herald platform-application events',
      masterKey: key,
      enforceSSL: true,
    });

    // The permissions SNS documents for delivery-status logging ("Prerequisites for delivery status
    // logging"), limited to the log groups SNS names sns/<region>/<account>/….
    const role = new iam.Role(this, 'DeliveryStatusLoggingRole', {
      assumedBy: new iam.ServicePrincipal('sns.amazonaws.com'),
      description: 'Lets SNS write the delivery status of Herald push notifications to CloudWatch Logs',
    });
    const snsLogGroups = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `sns/${stack.region}/${stack.account}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [snsLogGroups],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(snsLogGroups))}]`,
      reason:
        'SNS creates and names the delivery-status log groups itself, one per application and outcome, under sns/<region>/<account>/; ' +
        'the role, which only SNS can assume, may write to those and no other log group.',
    });

    // Setting a feedback role on an application passes it to SNS, so the caller needs iam:PassRole
    // on it (the Service Authorization Reference lists iam:PassRole, iam:PassedToService
    // sns.amazonaws.com, for SNS's platform-application calls).
    iam.Grant.addToPrincipal({
      grantee: onEvent,
      actions: ['iam:PassRole'],
      resourceArns: [role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'sns.amazonaws.com' } },
    });
    return { topic, role };
  }

  /**
   * Lets `grantee` delete device endpoints of these applications (pruning). Grants nothing when no
   * application is configured.
   */
  public grantEndpointDeletion(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnApplications(grantee, ['sns:DeleteEndpoint'], { includeApplications: false });
  }

  /**
   * Lets `grantee` register, read, update and delete device endpoints of these applications
   * (aws-notes.md §1.5). Grants nothing when no application is configured.
   */
  public grantEndpointManagement(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnApplications(
      grantee,
      ['sns:CreatePlatformEndpoint', 'sns:GetEndpointAttributes', 'sns:SetEndpointAttributes', 'sns:DeleteEndpoint'],
      { includeApplications: true },
    );
  }

  /**
   * Lets `grantee` publish to device endpoints of these applications (`Publish` with `TargetArn`).
   * Grants nothing when no application is configured.
   */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnApplications(grantee, ['sns:Publish'], { includeApplications: false });
  }

  private grantOnApplications(
    grantee: iam.IGrantable,
    actions: string[],
    { includeApplications }: { includeApplications: boolean },
  ): iam.Grant {
    if (this.resources.length === 0) {
      return iam.Grant.drop(grantee, `${actions.join(', ')} on SNS platform applications (none configured)`);
    }
    const stack = Stack.of(this);
    // Endpoint ARNs: arn:…:endpoint/<PLATFORM>/<application name>/<endpoint id>
    const endpointArns = this.resources.map(({ platform, name }) =>
      stack.formatArn({ service: 'sns', resource: 'endpoint', resourceName: `${platform}/${name}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    );
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [...(includeApplications ? this.resources.map(({ arn }) => arn) : []), ...endpointArns],
    });
    const principal = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      for (const endpointArn of endpointArns) {
        Validations.of(principal).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(endpointArn))}]`,
          reason: 'Device endpoints are created at run time, one per registered device; the grant is limited to the endpoints of Herald\'s own platform applications.',
        });
      }
    }
    return grant;
  }

  /**
   * Acknowledges, each on the narrowest construct and with its reason, the cdk-nag (AwsSolutions)
   * findings this construct causes. cdk-nag 3 matches a granular finding only by its exact id,
   * `<rule>[<finding>]`, with references flattened as it prints them (`<AWS::Region>`, `<Logical.Arn>`).
   */
  private acknowledgeNagFindings(onEvent: HeraldFunction, provider: cr.Provider, anyPlatformApplication: string) {
    const stack = Stack.of(this);
    const flat = (value: string) => flattenCfnReference(stack.resolve(value));
    const basicExecutionRole = {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS managed basic execution role only allows the function to write its own CloudWatch Logs.',
    };
    // HeraldFunction acknowledges its own X-Ray and runtime findings; the role is a sibling of the function.
    Validations.of(onEvent.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flat(anyPlatformApplication)}]`,
      reason:
        'A platform application ARN exists only once CreatePlatformApplication returns it, and an update ' +
        'that renames the applications creates the new ones before the old ones are deleted; so the ' +
        'function may manage any app/* in this account and region (platform-application actions only).',
    });
    Validations.of(provider).acknowledge(basicExecutionRole, {
      id: `AwsSolutions-IAM5[Resource::${flat(onEvent.functionArn)}:*]`,
      reason: 'The custom-resources Provider framework may invoke any version of the onEvent function it wraps.',
    });
  }
}

/** Validates the props, naming the bad value. Values that are tokens are checked at deploy time. */
function validateProps(props: PushPlatformsProps, appName: string): void {
  for (const key of ['apnsSecretName', 'fcmSecretName'] as const) {
    const name = props[key];
    if (name === undefined || Token.isUnresolved(name)) continue;
    // Secrets Manager names: 1–512 of A-Z a-z 0-9 / _ + = . @ -  (an ARN has ':' and is refused).
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
      throw new Error(
        `PushPlatforms: ${key} must be a Secrets Manager secret name (1 to 512 of A-Z a-z 0-9 / _ + = . @ -, ` +
          `not an ARN) (given "${name}")`,
      );
    }
  }
  if (props.apnsEnvironments !== undefined) {
    if (props.apnsEnvironments.length === 0) {
      throw new Error('PushPlatforms: apnsEnvironments must name at least one of production, sandbox (given [])');
    }
    for (const environment of props.apnsEnvironments) {
      if (environment !== 'production' && environment !== 'sandbox') {
        throw new Error(`PushPlatforms: apnsEnvironments may hold only production and sandbox (given "${environment}")`);
      }
    }
    if (new Set(props.apnsEnvironments).size !== props.apnsEnvironments.length) {
      throw new Error(
        `PushPlatforms: apnsEnvironments lists an environment twice (given ${JSON.stringify(props.apnsEnvironments)})`,
      );
    }
  }
  if (Token.isUnresolved(appName) || !/^[A-Za-z0-9_.-]+$/.test(appName)) {
    throw new Error(`PushPlatforms: appName must be letters, digits, _ . - only (given "${appName}")`);
  }
  // The longest name derived from it, "<appName>-apns-sandbox", must fit SNS's 256 characters.
  const longest = `${appName}-apns-sandbox`;
  if (longest.length > 256) {
    throw new Error(
      `PushPlatforms: appName is too long: "${longest}" exceeds SNS's 256 characters (given ${appName.length} characters)`,
    );
  }
  const rate = props.successFeedbackSampleRate;
  if (rate !== undefined && !Token.isUnresolved(rate) && (!Number.isInteger(rate) || rate < 0 || rate > 100)) {
    throw new Error(`PushPlatforms: successFeedbackSampleRate must be a whole percentage from 0 to 100 (given ${rate})`);
  }
  if (props.revision !== undefined && !Token.isUnresolved(props.revision) && props.revision.trim() === '') {
    throw new Error(`PushPlatforms: revision must not be empty (given "${props.revision}")`);
  }
}

/**
 * A CloudFormation value written the way cdk-nag names findings (cdk-nag's flattenCfnReference):
 * `{Ref: X}` → `<X>`, `{Fn::GetAtt: [R, A]}` → `<R.A>`, `Fn::Join` concatenated.
 */
function flattenCfnReference(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flattenCfnReference).join(delimiter);
    }
    if (node['Fn::GetAtt']) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
    }
    if (node.Ref) return `<${flattenCfnReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
