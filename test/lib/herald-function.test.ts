import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { HeraldFunction, type HeraldFunctionProps } from '../../lib/herald-function';

const FUNCTION = 'AWS::Lambda::Function';

/** A stack whose NodejsFunctions are not bundled: these tests are about the template (test/lib/herald-stack.test.ts bundles). */
function newStack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
}

function synth(props: Partial<HeraldFunctionProps> = {}): Template {
  const stack = newStack();
  new HeraldFunction(stack, 'Fn', { entry: 'delivery', description: 'Does one thing', ...props });
  return Template.fromStack(stack);
}

describe('HeraldFunction', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({ environment: { TABLE_NAME: 'herald' } });
  });

  test('creates one function, one role and one log group', () => {
    template.resourceCountIs(FUNCTION, 1);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
  });

  test('runs Node.js 22 on arm64', () => {
    template.hasResourceProperties(FUNCTION, {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  test('traces with X-Ray', () => {
    template.hasResourceProperties(FUNCTION, { TracingConfig: { Mode: 'Active' } });
  });

  test('has a 10 s timeout and 256 MB by default, and the description given', () => {
    template.hasResourceProperties(FUNCTION, { Timeout: 10, MemorySize: 256, Description: 'Does one thing' });
  });

  test('timeout, memorySize and logRetention override the defaults', () => {
    // WHEN
    const custom = synth({ timeout: Duration.seconds(60), memorySize: 512, logRetention: logs.RetentionDays.ONE_WEEK });

    // THEN
    custom.hasResourceProperties(FUNCTION, { Timeout: 60, MemorySize: 512 });
    custom.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('logs JSON to its own log group, kept one month and removed with the stack', () => {
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));

    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    template.hasResourceProperties(FUNCTION, { LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logGroupId } } });
  });

  test('sets Herald\'s environment and merges the given one', () => {
    template.hasResourceProperties(FUNCTION, {
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'herald',
          POWERTOOLS_METRICS_NAMESPACE: 'Herald',
          TABLE_NAME: 'herald',
        },
      },
    });
  });

  test('its role, assumed by Lambda only, has no AWS managed policy', () => {
    const [roleId] = Object.keys(template.findResources('AWS::IAM::Role'));

    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
      Policies: Match.absent(),
    });
    template.hasResourceProperties(FUNCTION, { Role: { 'Fn::GetAtt': [roleId, 'Arn'] } });
  });

  test('its role may write to its own log group and send traces, nothing else', () => {
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));

    template.resourceCountIs('AWS::IAM::Policy', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
          },
          {
            Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
            Effect: 'Allow',
            Resource: '*',
          },
        ],
      },
    });
  });

  test('refuses an entry with no handler under lambdas/', () => {
    const stack = newStack();

    expect(() => new HeraldFunction(stack, 'Fn', { entry: 'no-such-handler', description: 'x' })).toThrow(
      /no-such-handler[/\\]index\.ts/,
    );
  });
});
