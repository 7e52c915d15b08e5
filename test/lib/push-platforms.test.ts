import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PushPlatforms, type PushPlatformsProps } from '../../lib/push-platforms';

const PLATFORM_APP = 'Custom::SnsPlatformApplication';

/** `arn:${Partition}:<service>:${Region}:${AccountId}:<resource>` as CDK renders it. */
const stackArn = (service: string, resource: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`],
  ],
});

function synth(props: PushPlatformsProps) {
  const app = new cdk.App();
  const stack = new cdk.Stack(app, 'Test');
  const push = new PushPlatforms(stack, 'Push', props);
  return { app, stack, push, template: Template.fromStack(stack) };
}

describe('PushPlatforms', () => {
  test('creates nothing without a secret, and the stack still synthesizes', () => {
    // GIVEN a stack with something else in it (CloudFormation refuses an empty one)
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'Test');
    new cdk.CfnWaitConditionHandle(stack, 'Other');

    // WHEN
    const push = new PushPlatforms(stack, 'Push', {});

    // THEN
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources)).toEqual(['Other']);
    expect(push.platformApplicationArns).toEqual({});
  });

  test('APNs: one production and one sandbox application from the same secret', () => {
    const { template } = synth({ apnsSecretName: 'herald/apns' });

    template.resourceCountIs(PLATFORM_APP, 2);
    template.hasResourceProperties(PLATFORM_APP, {
      Name: 'herald-apns',
      Platform: 'APNS',
      SecretId: 'herald/apns',
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PushProviderframeworkonEvent'), 'Arn'] },
    });
    template.hasResourceProperties(PLATFORM_APP, {
      Name: 'herald-apns-sandbox',
      Platform: 'APNS_SANDBOX',
      SecretId: 'herald/apns',
    });
  });

  test('APNs: apnsEnvironments picks the gateways', () => {
    const { template, push } = synth({ apnsSecretName: 'herald/apns', apnsEnvironments: ['sandbox'] });

    template.resourceCountIs(PLATFORM_APP, 1);
    template.hasResourceProperties(PLATFORM_APP, { Platform: 'APNS_SANDBOX' });
    expect(Object.keys(push.platformApplicationArns)).toEqual(['APNS_SANDBOX']);
  });

  test('FCM: one application', () => {
    const { template } = synth({ fcmSecretName: 'herald/fcm' });

    template.resourceCountIs(PLATFORM_APP, 1);
    template.hasResourceProperties(PLATFORM_APP, { Name: 'herald-fcm', Platform: 'GCM', SecretId: 'herald/fcm' });
  });

  test('appName prefixes every application name', () => {
    const { template } = synth({ apnsSecretName: 'a', fcmSecretName: 'f', appName: 'acme.push_1' });

    for (const name of ['acme.push_1-apns', 'acme.push_1-apns-sandbox', 'acme.push_1-fcm']) {
      template.hasResourceProperties(PLATFORM_APP, { Name: name });
    }
  });

  test('revision is passed as the Revision property of every application', () => {
    const { template } = synth({ apnsSecretName: 'herald/apns', fcmSecretName: 'herald/fcm', revision: '2026-03-01' });

    expect(Object.values(template.findResources(PLATFORM_APP)).map((r) => r.Properties.Revision)).toEqual([
      '2026-03-01',
      '2026-03-01',
      '2026-03-01',
    ]);
  });

  test('without a revision there is no Revision property', () => {
    const { template } = synth({ fcmSecretName: 'herald/fcm' });

    template.hasResourceProperties(PLATFORM_APP, { Revision: Match.absent() });
  });

  test('exposes each application ARN as the custom resource attribute', () => {
    const { stack, push } = synth({ apnsSecretName: 'herald/apns', fcmSecretName: 'herald/fcm' });

    expect(stack.resolve(push.platformApplicationArns)).toEqual({
      APNS: { 'Fn::GetAtt': [expect.stringMatching(/^PushApnsApp/), 'PlatformApplicationArn'] },
      APNS_SANDBOX: { 'Fn::GetAtt': [expect.stringMatching(/^PushApnsSandboxApp/), 'PlatformApplicationArn'] },
      GCM: { 'Fn::GetAtt': [expect.stringMatching(/^PushFcmApp/), 'PlatformApplicationArn'] },
    });
  });

  test('the template holds secret names only, never a secret value', () => {
    const { template } = synth({ apnsSecretName: 'herald/apns', fcmSecretName: 'herald/fcm' });
    const json = JSON.stringify(template.toJSON());

    expect(json).not.toMatch(/PRIVATE KEY|signingKey|PlatformCredential|PlatformPrincipal|private_key|resolve:secretsmanager/);
    template.hasResourceProperties(PLATFORM_APP, {
      Name: 'herald-apns',
      Platform: 'APNS',
      SecretId: 'herald/apns',
      ServiceToken: Match.anyValue(),
    });
    // Exactly these properties: nothing else rides along (the feedback ones are a topic, a role and a rate).
    for (const resource of Object.values(template.findResources(PLATFORM_APP))) {
      expect(Object.keys(resource.Properties).sort()).toEqual([
        'EventDeliveryFailure',
        'EventEndpointDeleted',
        'EventEndpointUpdated',
        'FailureFeedbackRoleArn',
        'Name',
        'Platform',
        'SecretId',
        'ServiceToken',
        'SuccessFeedbackRoleArn',
        'SuccessFeedbackSampleRate',
      ]);
    }
  });

  test('the onEvent function is a HeraldFunction and both log groups have bounded retention', () => {
    const { template } = synth({ fcmSecretName: 'herald/fcm' });

    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      LoggingConfig: Match.objectLike({ LogGroup: { Ref: Match.stringLikeRegexp('^PushProviderLogs') } }),
    });
  });

  describe('IAM', () => {
    test('the onEvent function reads only the configured secrets', () => {
      const { template } = synth({ apnsSecretName: 'herald/apns', fcmSecretName: 'herald/fcm' });

      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^PushOnEventRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Effect: 'Allow',
              Resource: stackArn('secretsmanager', 'secret:herald/apns-??????'),
            },
            {
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Effect: 'Allow',
              Resource: stackArn('secretsmanager', 'secret:herald/fcm-??????'),
            },
          ]),
        },
      });
    });

    test('the onEvent function manages platform applications in its account and region', () => {
      const { template } = synth({ fcmSecretName: 'herald/fcm' });

      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^PushOnEventRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: [
                'sns:CreatePlatformApplication',
                'sns:SetPlatformApplicationAttributes',
                'sns:DeletePlatformApplication',
                'sns:GetPlatformApplicationAttributes',
              ],
              Effect: 'Allow',
              Resource: stackArn('sns', 'app/*'),
            },
          ]),
        },
      });
    });

    test('grantEndpointManagement allows endpoint calls on the applications and their endpoints', () => {
      const app = new cdk.App();
      const stack = new cdk.Stack(app, 'Test');
      const push = new PushPlatforms(stack, 'Push', { apnsSecretName: 'herald/apns', apnsEnvironments: ['production'] });
      const role = new iam.Role(stack, 'Delivery', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

      push.grantEndpointManagement(role);

      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^Delivery') }],
        PolicyDocument: {
          Statement: [
            {
              Action: [
                'sns:CreatePlatformEndpoint',
                'sns:GetEndpointAttributes',
                'sns:SetEndpointAttributes',
                'sns:DeleteEndpoint',
              ],
              Effect: 'Allow',
              Resource: [
                { 'Fn::GetAtt': [Match.stringLikeRegexp('^PushApnsApp'), 'PlatformApplicationArn'] },
                stackArn('sns', 'endpoint/APNS/herald-apns/*'),
              ],
            },
          ],
        },
      });
    });

    test('grantPublish allows Publish to the endpoints of the applications only', () => {
      const app = new cdk.App();
      const stack = new cdk.Stack(app, 'Test');
      const push = new PushPlatforms(stack, 'Push', { fcmSecretName: 'herald/fcm' });
      const role = new iam.Role(stack, 'Delivery', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

      push.grantPublish(role);

      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^Delivery') }],
        PolicyDocument: {
          Statement: [{ Action: 'sns:Publish', Effect: 'Allow', Resource: stackArn('sns', 'endpoint/GCM/herald-fcm/*') }],
        },
      });
    });

    test('the grants grant nothing when no application is configured', () => {
      const app = new cdk.App();
      const stack = new cdk.Stack(app, 'Test');
      const push = new PushPlatforms(stack, 'Push', {});
      const role = new iam.Role(stack, 'Delivery', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

      push.grantEndpointManagement(role);
      push.grantPublish(role);

      Template.fromStack(stack).resourceCountIs('AWS::IAM::Policy', 0);
    });
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged', () => {
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'Test');
    new PushPlatforms(stack, 'Push', { apnsSecretName: 'herald/apns', fcmSecretName: 'herald/fcm' });
    cdk.Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    expect(() => app.synth()).not.toThrow();
  });

  describe('delivery feedback: event topic and delivery-status logging', () => {
    let template: Template;
    let stack: cdk.Stack;
    let push: PushPlatforms;
    let topicRef: unknown;
    let roleArn: unknown;
    beforeAll(() => {
      ({ template, stack, push } = synth({ apnsSecretName: 'herald/apns', fcmSecretName: 'herald/fcm' }));
      topicRef = stack.resolve(push.eventTopic!.topicArn);
      roleArn = stack.resolve(push.deliveryStatusLoggingRole!.roleArn);
    });

    test('every application sends endpoint updates, endpoint deletions and delivery failures to the event topic', () => {
      template.resourceCountIs('AWS::SNS::Topic', 1);
      expect(Object.keys(template.findResources(PLATFORM_APP, { Properties: { EventEndpointUpdated: topicRef, EventEndpointDeleted: topicRef, EventDeliveryFailure: topicRef } }))).toHaveLength(3);
    });

    test('no application reports endpoint creations, which Herald makes itself', () => {
      for (const resource of Object.values(template.findResources(PLATFORM_APP))) {
        expect(resource.Properties).not.toHaveProperty('EventEndpointCreated');
      }
    });

    test('every application logs failed deliveries, and no successful one by default, through the logging role', () => {
      expect(
        Object.keys(template.findResources(PLATFORM_APP, { Properties: { FailureFeedbackRoleArn: roleArn, SuccessFeedbackRoleArn: roleArn, SuccessFeedbackSampleRate: '0' } })),
      ).toHaveLength(3);
    });

    test('successFeedbackSampleRate sets the percentage of successful deliveries logged', () => {
      const { template: sampled } = synth({ fcmSecretName: 'herald/fcm', successFeedbackSampleRate: 5 });

      sampled.hasResourceProperties(PLATFORM_APP, { SuccessFeedbackSampleRate: '5' });
    });

    test('the event topic is encrypted with a rotated customer-managed key that SNS may use for this account\'s topics', () => {
      const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));

      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowSnsToPublishPlatformApplicationEvents',
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
              Resource: '*',
              Condition: { StringLike: { 'kms:EncryptionContext:aws:sns:topicArn': stackArn('sns', '*') } },
            },
          ]),
        },
      });
    });

    test('the event topic refuses publishers without TLS', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topicRef],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    });

    test('only SNS can assume the logging role, which may write only to SNS\'s log groups', () => {
      const roleId = (roleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' } }] },
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: roleId }],
        PolicyDocument: {
          Statement: [
            {
              Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
              Effect: 'Allow',
              Resource: {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:sns/', { Ref: 'AWS::Region' }, '/', { Ref: 'AWS::AccountId' }, '/*']],
              },
            },
          ],
        },
      });
    });

    test('the onEvent function may pass the logging role to SNS, and no other role to any service', () => {
      const passRole = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
        (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
          .filter((statement) => [statement.Action].flat().includes('iam:PassRole'))
          .map((statement) => ({ roles: policy.Properties.Roles, statement })),
      );

      expect(passRole).toEqual([
        {
          roles: [{ Ref: expect.stringMatching(/^PushOnEventRole/) }],
          statement: { Action: 'iam:PassRole', Effect: 'Allow', Resource: roleArn, Condition: { StringEquals: { 'iam:PassedToService': 'sns.amazonaws.com' } } },
        },
      ]);
    });

    test('without an application there is no topic, key or logging role', () => {
      const app = new cdk.App();
      const stack = new cdk.Stack(app, 'Test');
      const none = new PushPlatforms(stack, 'Push', {});

      expect(none.eventTopic).toBeUndefined();
      expect(none.deliveryStatusLoggingRole).toBeUndefined();
    });

    test('grantEndpointDeletion allows DeleteEndpoint on the applications\' endpoints only', () => {
      const app = new cdk.App();
      const stack = new cdk.Stack(app, 'Test');
      const fcm = new PushPlatforms(stack, 'Push', { fcmSecretName: 'herald/fcm' });
      const role = new iam.Role(stack, 'Maintenance', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

      fcm.grantEndpointDeletion(role);

      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^Maintenance') }],
        PolicyDocument: { Statement: [{ Action: 'sns:DeleteEndpoint', Effect: 'Allow', Resource: stackArn('sns', 'endpoint/GCM/herald-fcm/*') }] },
      });
    });
  });

  describe('props validation', () => {
    test.each<[string, PushPlatformsProps, RegExp]>([
      ['an appName with a space', { fcmSecretName: 'f', appName: 'my app' }, /appName .*\(given "my app"\)/],
      ['an empty appName', { fcmSecretName: 'f', appName: '' }, /appName .*\(given ""\)/],
      ['an appName too long for SNS', { fcmSecretName: 'f', appName: 'a'.repeat(244) }, /appName is too long.*\(given 244 characters\)/],
      ['a secret ARN instead of a name', { apnsSecretName: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x' }, /apnsSecretName .*\(given "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"\)/],
      ['an empty secret name', { fcmSecretName: '' }, /fcmSecretName .*\(given ""\)/],
      ['no APNs environment', { apnsSecretName: 'a', apnsEnvironments: [] }, /apnsEnvironments .*\(given \[\]\)/],
      ['an unknown APNs environment', { apnsSecretName: 'a', apnsEnvironments: ['staging' as 'sandbox'] }, /apnsEnvironments .*\(given "staging"\)/],
      ['a repeated APNs environment', { apnsSecretName: 'a', apnsEnvironments: ['sandbox', 'sandbox'] }, /apnsEnvironments .*twice/],
      ['a blank revision', { fcmSecretName: 'f', revision: ' ' }, /revision .*\(given " "\)/],
      ['a success sample rate above 100', { fcmSecretName: 'f', successFeedbackSampleRate: 101 }, /successFeedbackSampleRate must be a whole percentage from 0 to 100 \(given 101\)/],
      ['a fractional success sample rate', { fcmSecretName: 'f', successFeedbackSampleRate: 2.5 }, /successFeedbackSampleRate .*\(given 2\.5\)/],
    ])('throws for %s', (_case, props, message) => {
      const app = new cdk.App();
      const stack = new cdk.Stack(app, 'Test');

      expect(() => new PushPlatforms(stack, 'Push', props)).toThrow(message);
    });

    test('accepts the longest appName that fits', () => {
      const app = new cdk.App();
      const stack = new cdk.Stack(app, 'Test');

      expect(() => new PushPlatforms(stack, 'Push', { appName: 'a'.repeat(243) })).not.toThrow();
    });
  });
});
