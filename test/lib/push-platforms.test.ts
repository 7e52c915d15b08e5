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
    // Exactly these properties: nothing else rides along.
    for (const resource of Object.values(template.findResources(PLATFORM_APP))) {
      expect(Object.keys(resource.Properties).sort()).toEqual(['Name', 'Platform', 'SecretId', 'ServiceToken']);
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
