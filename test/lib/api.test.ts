import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Api, type ApiProps } from '../../lib/api';

const ROUTE = 'AWS::ApiGatewayV2::Route';
const STAGE = 'AWS::ApiGatewayV2::Stage';
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/herald';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-queue';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/herald-queue';
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';

/** A stack whose NodejsFunctions are not bundled: these tests are about the template (test/lib/herald-stack.test.ts bundles). */
function setUp() {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
  const table = dynamodb.Table.fromTableArn(stack, 'Table', TABLE_ARN);
  const queue = sqs.Queue.fromQueueAttributes(stack, 'Queue', { queueArn: QUEUE_ARN, queueUrl: QUEUE_URL });
  return { stack, table, queue };
}

function synth(props: Partial<ApiProps> = {}) {
  const { stack, table, queue } = setUp();
  const api = new Api(stack, 'Api', { table, queue, ...props });
  return { stack, api, template: Template.fromStack(stack) };
}

describe('Api', () => {
  let template: Template;
  let stack: Stack;
  let api: Api;
  beforeAll(() => {
    ({ stack, api, template } = synth());
  });

  test('creates one HTTP API', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  describe('routes', () => {
    const routeKeys = [
      'POST /transform',
      'POST /api/v1/messages/transform',
      'POST /message',
      'GET /message',
      'POST /api/v1/messages',
      'GET /api/v1/messages',
      'POST /template',
      'POST /api/v1/messages/template',
      'POST /devices',
      'GET /health',
      'GET /openapi.json',
      'POST /webhooks/{source}',
      'GET /webhooks/{source}',
      '$default',
    ];

    test('has the named routes and $default, and no other', () => {
      const keys = Object.values(template.findResources(ROUTE)).map((route) => route.Properties.RouteKey);
      expect(keys.sort()).toEqual([...routeKeys].sort());
    });

    test.each(routeKeys)('%s reaches the ingest function through the one integration', (routeKey) => {
      const [integrationId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Integration'));

      template.hasResourceProperties(ROUTE, {
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
    });

    test('the integration is a Lambda proxy with payload format 2.0', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [stack.getLogicalId(api.ingestFunction.node.defaultChild as lambda.CfnFunction), 'Arn'] },
      });
    });

    test('API Gateway may invoke the ingest function for this API only', () => {
      const [apiId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'));

      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }, '/*/*'])] },
      });
    });
  });

  describe('stage', () => {
    test('has only the $default stage, deployed automatically', () => {
      template.resourceCountIs(STAGE, 1);
      template.hasResourceProperties(STAGE, { StageName: '$default', AutoDeploy: true });
    });

    test('throttles to 50 requests per second with a burst of 100 by default', () => {
      template.hasResourceProperties(STAGE, {
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
    });

    test('rateLimit and burstLimit override the throttling', () => {
      const { template: custom } = synth({ rateLimit: 5, burstLimit: 10 });

      custom.hasResourceProperties(STAGE, {
        DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      });
    });

    test('writes access logs to a log group kept one month by default', () => {
      const logGroupId = stack.getLogicalId(api.accessLogGroup.node.defaultChild as logs.CfnLogGroup);

      expect(template.findResources('AWS::Logs::LogGroup')[logGroupId].Properties.RetentionInDays).toBe(30);
      template.hasResourceProperties(STAGE, {
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] }, Format: Match.anyValue() },
      });
    });

    test('accessLogRetention overrides the access-log retention', () => {
      const { template: custom, stack: customStack, api: customApi } = synth({ accessLogRetention: logs.RetentionDays.ONE_WEEK });

      const accessLogsId = customStack.getLogicalId(customApi.accessLogGroup.node.defaultChild as logs.CfnLogGroup);
      expect(custom.findResources('AWS::Logs::LogGroup')[accessLogsId].Properties.RetentionInDays).toBe(7);
    });

    describe('access log format', () => {
      let format: string;
      beforeAll(() => {
        const [stage] = Object.values(template.findResources(STAGE));
        format = stage.Properties.AccessLogSettings.Format;
      });

      test('is one JSON object of $context variables', () => {
        const fields: Record<string, string> = JSON.parse(format);

        expect(Object.keys(fields)).toEqual(expect.arrayContaining(['requestId', 'ip', 'method', 'route', 'path', 'status']));
        for (const value of Object.values(fields)) expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
      });

      test.each(['querystring', 'header', 'rawQueryString', 'requestOverride', 'authorization', 'magicCode', 'token'])(
        'logs no %s (magic codes and tokens travel in query strings and headers)',
        (forbidden) => {
          expect(format.toLowerCase()).not.toContain(forbidden.toLowerCase());
        },
      );
    });
  });

  describe('ingest function', () => {
    test('is Herald\'s function: arm64, Node.js 22, traced', () => {
      template.resourceCountIs('AWS::Lambda::Function', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Architectures: ['arm64'],
        Runtime: 'nodejs22.x',
        TracingConfig: { Mode: 'Active' },
      });
    });

    test('is told its table and queue, and the platform applications given', () => {
      const { template: withPlatforms } = synth({
        platformEnvironment: { HERALD_FCM_APP_ARN: 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm' },
      });

      withPlatforms.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            TABLE_NAME: 'herald',
            QUEUE_URL,
            HERALD_FCM_APP_ARN: 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm',
          }),
        },
      });
    });

    test('may read and write the table, and send to the queue', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
              Resource: [TABLE_ARN],
            }),
            Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Resource: QUEUE_ARN }),
          ]),
        },
      });
    });
  });

  test('url is the API endpoint', () => {
    const [apiId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'));

    expect(stack.resolve(api.url)).toEqual({ 'Fn::GetAtt': [apiId, 'ApiEndpoint'] });
  });

  describe('custom domain', () => {
    function synthWithDomain(domainName = 'push.example.com') {
      const { stack: domainStack, table, queue } = setUp();
      const certificate = acm.Certificate.fromCertificateArn(domainStack, 'Certificate', CERTIFICATE_ARN);
      const domainApi = new Api(domainStack, 'Api', { table, queue, domain: { domainName, certificate } });
      return { stack: domainStack, api: domainApi, template: Template.fromStack(domainStack) };
    }

    test('none by default: url is the execute-api endpoint and there is no domain target', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
      template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
      expect(api.domainTarget).toBeUndefined();
    });

    test('a regional domain name with TLS 1.2 and the imported certificate', () => {
      const { template: withDomain } = synthWithDomain();

      withDomain.resourceCountIs('AWS::ApiGatewayV2::DomainName', 1);
      withDomain.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: 'push.example.com',
        DomainNameConfigurations: [{ CertificateArn: CERTIFICATE_ARN, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
      });
    });

    test('maps the API\'s $default stage at the root of the domain', () => {
      const { template: withDomain, stack: domainStack, api: domainApi } = synthWithDomain();
      const [apiId] = Object.keys(withDomain.findResources('AWS::ApiGatewayV2::Api'));

      withDomain.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
      withDomain.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
        ApiId: { Ref: apiId },
        DomainName: { Ref: domainStack.getLogicalId(domainApi.domainName!.node.defaultChild as apigwv2.CfnDomainName) },
        Stage: '$default',
        ApiMappingKey: Match.absent(),
      });
      // Created after the stage it names.
      expect(Object.values(withDomain.findResources('AWS::ApiGatewayV2::ApiMapping'))[0]!.DependsOn).toEqual([
        domainStack.getLogicalId(domainApi.stage.node.defaultChild as apigwv2.CfnStage),
      ]);
    });

    test('url is the custom domain\'s, and domainTarget its regional host name', () => {
      const { stack: domainStack, api: domainApi } = synthWithDomain();
      const domainId = domainStack.getLogicalId(domainApi.domainName!.node.defaultChild as apigwv2.CfnDomainName);

      expect(domainApi.url).toBe('https://push.example.com');
      expect(domainStack.resolve(domainApi.domainTarget)).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
    });

    test.each(['https://push.example.com', 'push.example.com/herald', '*.example.com', 'Push.Example.com', 'localhost', ''])(
      'refuses the domain name %j, naming it',
      (domainName) => {
        expect(() => synthWithDomain(domainName)).toThrow(`domainName must be a lower-case host name such as push.example.com, without scheme, path or wildcard (given "${domainName}")`);
      },
    );
  });

  test.each([
    [{ rateLimit: 0 }, /rateLimit .*\(given 0\)/],
    [{ rateLimit: 10_001 }, /rateLimit .*\(given 10001\)/],
    [{ burstLimit: 0 }, /burstLimit .*\(given 0\)/],
  ])('refuses %j, naming the value', (props, message) => {
    const { stack: badStack, table, queue } = setUp();

    expect(() => new Api(badStack, 'Api', { table, queue, ...props })).toThrow(message);
  });
});
