import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from '../../lib/herald-function';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';

/** The feature flags `cdk synth` gives bin/app.ts (cdk.json), so the template tested is the one deployed. */
const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
/** As in bin/app.ts. */
const DESCRIPTION = 'Herald: self-hosted push notifications for identity-provider webhooks';
const WITH_SECRETS = { apnsSecretName: 'herald/apns', fcmSecretName: 'herald/fcm', alarmEmail: 'ops@example.com' } as const;

/**
 * The stack as bin/app.ts builds it (stack id `Herald`), optionally checked by cdk-nag as bin/app.ts does.
 * `bundle: false` skips esbuild, for tests where the function code plays no part.
 */
function build(props: Omit<HeraldStackProps, 'description'> = {}, { nag = false, bundle = true } = {}) {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) } });
  const stack = new HeraldStack(app, 'Herald', { description: DESCRIPTION, ...props });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

/**
 * The findings of the validation plugins in the report `app.synth()` wrote (acknowledged ones are
 * not in it), as rule → construct paths. Call after `app.synth()`, whether it threw or not.
 */
function validationFindings(app: App): Record<string, string[]> {
  const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
  const findings: Record<string, string[]> = {};
  for (const pluginReport of report.pluginReports) {
    for (const violation of pluginReport.violations) {
      findings[violation.ruleName] = violation.violatingConstructs.map((construct: { constructPath: string }) => construct.constructPath);
    }
  }
  return findings;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

/** Every statement of the identity policies in the template (policies, inline role policies, managed policies). */
function identityStatements(template: Template): Statement[] {
  const documents = [
    ...Object.values(template.findResources('AWS::IAM::Policy')).map((policy) => policy.Properties.PolicyDocument),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')).map((policy) => policy.Properties.PolicyDocument),
    ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((role) =>
      (role.Properties.Policies ?? []).map((policy: { PolicyDocument: unknown }) => policy.PolicyDocument),
    ),
  ];
  return documents.flatMap((document) => document.Statement);
}

/** The actions granted on every resource (`Resource: '*'`), across the template's identity policies. */
function actionsOnEveryResource(template: Template): string[] {
  const isWildcard = (resource: unknown) => resource === '*' || (Array.isArray(resource) && resource.includes('*'));
  return identityStatements(template)
    .filter((statement) => statement.Effect === 'Allow' && isWildcard(statement.Resource))
    .flatMap((statement) => [statement.Action].flat());
}

describe('HeraldStack', () => {
  describe('default: no push secret, no alarm e-mail', () => {
    let template: Template;
    beforeAll(() => {
      template = Template.fromStack(build().stack);
    });

    test('matches the snapshot', () => {
      expect(template.toJSON()).toMatchSnapshot();
    });

    test('holds no absolute path of the machine that synthesized it', () => {
      const json = JSON.stringify(template.toJSON());

      for (const directory of new Set([PROJECT_ROOT, process.cwd(), os.homedir(), os.tmpdir()])) {
        expect(json).not.toContain(`${directory}${path.sep}`);
      }
    });

    test('has exactly two functions, ingest and delivery, and no custom resource', () => {
      template.resourceCountIs('AWS::Lambda::Function', 2);
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Herald ingest') });
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Herald delivery') });
      template.resourceCountIs('Custom::SnsPlatformApplication', 0);
      template.resourceCountIs('AWS::CloudFormation::CustomResource', 0);
    });

    test('has one table, the queue and its dead-letter queue, one HTTP API, one alarm topic with no subscription', () => {
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      template.resourceCountIs('AWS::SQS::Queue', 2);
      template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.resourceCountIs('AWS::SNS::Subscription', 0);
      template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });

    test('the delivery function is fed by the queue the ingest function sends to', () => {
      const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
      const [ingest] = Object.values(
        template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Herald ingest') } }),
      );

      expect(mapping.Properties.EventSourceArn).toEqual({ 'Fn::GetAtt': [ingest.Properties.Environment.Variables.QUEUE_URL.Ref, 'Arn'] });
    });

    test('the queue hides a message six times as long as the delivery function may run', () => {
      const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
      const queue = template.findResources('AWS::SQS::Queue')[mapping.Properties.EventSourceArn['Fn::GetAtt'][0]];
      const delivery = template.findResources('AWS::Lambda::Function')[mapping.Properties.FunctionName.Ref];

      expect(queue.Properties.VisibilityTimeout).toBe(6 * delivery.Properties.Timeout);
    });

    test('outputs the API URL, the authentik webhook URL, the dashboard URL, the alarm topic and the table', () => {
      const outputs = template.findOutputs('*');
      const [apiId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'));

      expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'AuthentikWebhookUrl', 'DashboardUrl', 'AlarmTopicArn', 'TableName']));
      template.hasOutput('ApiUrl', { Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] } });
      template.hasOutput('AuthentikWebhookUrl', {
        Value: {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [apiId, 'ApiEndpoint'] }, Match.stringLikeRegexp('^/transform\\?parser=ZENTIK_AUTHENTIK&magicCode=')]],
        },
      });
      template.hasOutput('DashboardUrl', {
        Value: { 'Fn::Join': ['', Match.arrayWith(['#dashboards:name=', { Ref: Match.stringLikeRegexp('^MonitoringDashboard') }])] },
      });
      template.hasOutput('AlarmTopicArn', { Value: { Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') } });
      template.hasOutput('TableName', { Value: { Ref: Match.stringLikeRegexp('^StoreTable') } });
    });

    test('grants no IAM permission on every resource (*), except X-Ray\'s, which has no resource-level permission', () => {
      const actions = actionsOnEveryResource(template);

      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((action) => !action.startsWith('xray:'))).toEqual([]);
    });
  });

  describe('with APNs and FCM secrets and an alarm e-mail', () => {
    let template: Template;
    beforeAll(() => {
      template = Template.fromStack(build(WITH_SECRETS).stack);
    });

    test('adds the push-platform custom resources: one per APNs gateway and one for FCM', () => {
      template.resourceCountIs('Custom::SnsPlatformApplication', 3);
      template.hasResourceProperties('Custom::SnsPlatformApplication', { Platform: 'APNS', SecretId: 'herald/apns' });
      template.hasResourceProperties('Custom::SnsPlatformApplication', { Platform: 'APNS_SANDBOX', SecretId: 'herald/apns' });
      template.hasResourceProperties('Custom::SnsPlatformApplication', { Platform: 'GCM', SecretId: 'herald/fcm' });
    });

    test('adds their two functions (onEvent and the provider framework) to ingest and delivery', () => {
      template.resourceCountIs('AWS::Lambda::Function', 4);
    });

    test('subscribes the alarm e-mail', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 1);
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    });

    test('tells the ingest function the platform applications', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Herald ingest'),
        Environment: {
          Variables: Match.objectLike({
            HERALD_APNS_APP_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PushPlatformsApnsApp'), 'PlatformApplicationArn'] },
            HERALD_APNS_SANDBOX_APP_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PushPlatformsApnsSandboxApp'), 'PlatformApplicationArn'] },
            HERALD_FCM_APP_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PushPlatformsFcmApp'), 'PlatformApplicationArn'] },
          }),
        },
      });
    });

    test('holds the secret names, and no secret value or reference that would resolve one', () => {
      const json = JSON.stringify(template.toJSON());

      expect(json).toContain('herald/apns');
      expect(json).toContain('herald/fcm');
      expect(json).not.toMatch(/BEGIN PRIVATE KEY|private_key|hrld_|signingKey|resolve:secretsmanager|SecretString/);
    });

    test('grants no IAM permission on every resource (*), except X-Ray\'s', () => {
      const actions = actionsOnEveryResource(template);

      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((action) => !action.startsWith('xray:'))).toEqual([]);
    });
  });

  describe('cdk-nag AwsSolutions checks', () => {
    test('find nothing unacknowledged in the default stack', () => {
      const { app } = build({}, { nag: true, bundle: false });

      expect(() => app.synth()).not.toThrow();
      expect(validationFindings(app)).toEqual({});
    });

    test('find nothing unacknowledged with push secrets and an alarm e-mail', () => {
      const { app } = build(WITH_SECRETS, { nag: true, bundle: false });

      expect(() => app.synth()).not.toThrow();
      expect(validationFindings(app)).toEqual({});
    });

    test('are live: a non-compliant queue fails synthesis, and is the only finding', () => {
      // GIVEN
      const { app, stack } = build({}, { nag: true, bundle: false });

      // WHEN
      new sqs.Queue(stack, 'Bad');

      // THEN
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
      expect(validationFindings(app)).toEqual({
        'AwsSolutions-SQS3': ['Herald/Bad/Resource'],
        'AwsSolutions-SQS4': ['Herald/Bad/Resource'],
      });
    });
  });

  test('synthesizes with no AWS credentials and no network access', () => {
    // GIVEN no credentials anywhere the SDK looks, and no connection allowed from this process
    const savedEnvironment = { ...process.env };
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[key];
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(os.tmpdir(), 'herald-no-such-credentials');
    process.env.AWS_CONFIG_FILE = path.join(os.tmpdir(), 'herald-no-such-config');
    const connect = jest.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
      throw new Error('network access during synthesis');
    });
    try {
      // WHEN
      const { app } = build(WITH_SECRETS);
      const assembly = app.synth();

      // THEN
      expect(assembly.getStackByName('Herald').template.Resources).toBeDefined();
      expect(assembly.manifest.missing ?? []).toEqual([]);
      expect(connect).not.toHaveBeenCalled();
    } finally {
      connect.mockRestore();
      for (const key of Object.keys(process.env)) if (!(key in savedEnvironment)) delete process.env[key];
      Object.assign(process.env, savedEnvironment);
    }
  });
});
