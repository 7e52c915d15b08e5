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
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
const WITH_DOMAIN = { domainName: 'push.example.com', certificateArn: CERTIFICATE_ARN } as const;

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

/** The logical id of the function whose description matches. */
function functionId(template: Template, description: string): string {
  const [id] = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description) } }));
  return id!;
}

/** The statements of the policies attached to the role of the function whose description matches. */
function statementsOfFunction(template: Template, description: string): Statement[] {
  const fn = template.findResources('AWS::Lambda::Function')[functionId(template, description)]!;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
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

    test('has exactly four functions, ingest, delivery, admin and maintenance, and no custom resource', () => {
      template.resourceCountIs('AWS::Lambda::Function', 4);
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Herald ingest') });
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Herald delivery') });
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Herald admin') });
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Herald maintenance') });
      template.resourceCountIs('Custom::SnsPlatformApplication', 0);
      template.resourceCountIs('AWS::CloudFormation::CustomResource', 0);
    });

    test('has one table, the queue and its dead-letter queue, one HTTP API, one alarm topic with no subscription', () => {
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      template.resourceCountIs('AWS::SQS::Queue', 2);
      template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.resourceCountIs('AWS::SNS::Subscription', 0);
      // The pipeline's four, and errors and throttles of ingest, delivery, admin and maintenance.
      template.resourceCountIs('AWS::CloudWatch::Alarm', 4 + 2 * 4);
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

    test('routes /admin/… to the admin function with AWS IAM authorization; no other route is under /admin', () => {
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((route) => route.Properties);
      const adminRoutes = routes.filter((route) => / \/admin/.test(route.RouteKey));
      const [adminIntegrationId] = Object.entries(template.findResources('AWS::ApiGatewayV2::Integration'))
        .filter(([, integration]) => integration.Properties.IntegrationUri['Fn::GetAtt'][0] === functionId(template, '^Herald admin'))
        .map(([id]) => id);

      expect(adminRoutes).toEqual([
        expect.objectContaining({
          RouteKey: 'ANY /admin/{proxy+}',
          AuthorizationType: 'AWS_IAM',
          Target: { 'Fn::Join': ['', ['integrations/', { Ref: adminIntegrationId }]] },
        }),
      ]);
    });

    test('every route without IAM, $default included, reaches the ingest function', () => {
      const ingestIntegrations = Object.entries(template.findResources('AWS::ApiGatewayV2::Integration'))
        .filter(([, integration]) => integration.Properties.IntegrationUri['Fn::GetAtt'][0] === functionId(template, '^Herald ingest'))
        .map(([id]) => ({ 'Fn::Join': ['', ['integrations/', { Ref: id }]] }));
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((route) => route.Properties);

      for (const route of routes.filter((candidate) => candidate.AuthorizationType !== 'AWS_IAM')) {
        expect(ingestIntegrations).toContainEqual(route.Target);
      }
      expect(routes.find((route) => route.RouteKey === '$default')).toMatchObject({ AuthorizationType: 'NONE' });
    });

    test('the admin function may manage the table and sources\' secrets, send only as the redrive\'s destination, and not publish', () => {
      const statements = statementsOfFunction(template, '^Herald admin');
      const actions = statements.flatMap((statement) => [statement.Action].flat());
      const [queueId] = Object.entries(template.findResources('AWS::SQS::Queue')).find(([, queue]) => queue.Properties.RedrivePolicy !== undefined)!;

      expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchWriteItem', 'secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']));
      expect(actions).not.toContain('sns:Publish');
      // The DLQ's message move task sends to the notification queue with the caller's permissions.
      const sends = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('sqs:Send')));
      expect(sends).toEqual([expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } })]);
    });

    test('the admin function has error and throttle alarms like the others', () => {
      for (const name of ['Ingest', 'Delivery', 'Admin']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp(`^The ${name} function failed`) });
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp(`^The ${name} function was throttled`) });
      }
    });

    test('runs the maintenance function daily, and alarms when push credentials are rejected', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 day)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(template, '^Herald maintenance'), 'Arn'] } })],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('rejected the push credentials') });
    });

    test('has no custom domain and no DomainTarget output', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
      expect(Object.keys(template.findOutputs('*'))).not.toContain('DomainTarget');
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

    test('adds their two functions (onEvent and the provider framework) and the feedback function to ingest, delivery, admin and maintenance', () => {
      template.resourceCountIs('AWS::Lambda::Function', 7);
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Herald feedback') });
    });

    test('lets the admin function delete device endpoints of the platform applications (device and bucket deletion)', () => {
      const endpointStatements = statementsOfFunction(template, '^Herald admin').filter((statement) => [statement.Action].flat().includes('sns:DeleteEndpoint'));

      expect(endpointStatements).toHaveLength(1);
      const resources = JSON.stringify(endpointStatements[0]!.Resource);
      for (const application of ['APNS/herald-apns/*', 'APNS_SANDBOX/herald-apns-sandbox/*', 'GCM/herald-fcm/*']) {
        expect(resources).toContain(`:endpoint/${application}`);
      }
    });

    test('tells the admin function the platform applications', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Herald admin'),
        Environment: {
          Variables: Match.objectLike({
            HERALD_APNS_APP_ARN: Match.anyValue(),
            HERALD_APNS_SANDBOX_APP_ARN: Match.anyValue(),
            HERALD_FCM_APP_ARN: Match.anyValue(),
          }),
        },
      });
    });

    test('subscribes the alarm e-mail (and the feedback queue to the event topic)', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 2);
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

    test('feeds the platform applications\' event topic to the feedback function through an encrypted queue', () => {
      const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic', { Properties: { KmsMasterKeyId: Match.anyValue() } }));
      const [subscription] = Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'sqs' } }));
      const queueId = subscription!.Properties.Endpoint['Fn::GetAtt'][0];

      expect(subscription!.Properties.TopicArn).toEqual({ Ref: topicId });
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        FunctionName: { Ref: functionId(template, '^Herald feedback') },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      template.hasResourceProperties('Custom::SnsPlatformApplication', { EventDeliveryFailure: { Ref: topicId } });
    });

    test('lets the maintenance function delete device endpoints, and nothing else in SNS', () => {
      const snsActions = statementsOfFunction(template, '^Herald maintenance')
        .flatMap((statement) => [statement.Action].flat())
        .filter((action) => action.startsWith('sns:'));

      expect(snsActions).toEqual(['sns:DeleteEndpoint']);
    });

    test('alarms on errors and throttles of the maintenance and feedback functions', () => {
      for (const name of ['Maintenance', 'Feedback']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp(`^The ${name} function failed`) });
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp(`^The ${name} function was throttled`) });
      }
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

  describe('with a custom domain', () => {
    let template: Template;
    let domainId: string;
    beforeAll(() => {
      template = Template.fromStack(build(WITH_DOMAIN, { bundle: false }).stack);
      [domainId] = Object.keys(template.findResources('AWS::ApiGatewayV2::DomainName')) as [string];
    });

    test('creates the API Gateway domain name with the imported certificate, mapped to the API', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: 'push.example.com',
        DomainNameConfigurations: [{ CertificateArn: CERTIFICATE_ARN, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
      });
      template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
      template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    });

    test('outputs the custom URLs and the host name to point the DNS record at', () => {
      template.hasOutput('ApiUrl', { Value: 'https://push.example.com' });
      template.hasOutput('AuthentikWebhookUrl', { Value: Match.stringLikeRegexp('^https://push\\.example\\.com/transform\\?parser=ZENTIK_AUTHENTIK&magicCode=') });
      template.hasOutput('DomainTarget', {
        Value: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] },
        Description: Match.stringLikeRegexp('push\\.example\\.com'),
      });
    });
  });

  describe('refuses bad custom-domain props, naming the value', () => {
    test.each<[string, Partial<HeraldStackProps>, string]>([
      ['certificateArn without domainName', { certificateArn: CERTIFICATE_ARN }, `certificateArn is set (given "${CERTIFICATE_ARN}") but domainName is not`],
      ['domainName without certificateArn', { domainName: 'push.example.com' }, 'domainName is set (given "push.example.com") but certificateArn is not'],
      ['a certificateArn that is no ACM certificate ARN', { domainName: 'push.example.com', certificateArn: 'arn:aws:iam::123456789012:server-certificate/abc' }, 'must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id> (given "arn:aws:iam::123456789012:server-certificate/abc")'],
      ['a domainName with a scheme', { domainName: 'https://push.example.com', certificateArn: CERTIFICATE_ARN }, '(given "https://push.example.com")'],
    ])('%s', (_what, props, message) => {
      expect(() => build(props, { bundle: false })).toThrow(message);
    });

    test('a certificate in another region than the stack\'s', () => {
      expect(() => build({ ...WITH_DOMAIN, env: { region: 'eu-west-1' } }, { bundle: false })).toThrow(
        `certificateArn must be in the stack's region eu-west-1 for a regional API domain (given "${CERTIFICATE_ARN}")`,
      );
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

    test('find nothing unacknowledged with a custom domain', () => {
      const { app } = build(WITH_DOMAIN, { nag: true, bundle: false });

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
