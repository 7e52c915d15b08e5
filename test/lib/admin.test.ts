import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AdminApi } from '../../lib/admin';

const ROUTE = 'AWS::ApiGatewayV2::Route';
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/herald';
const FCM_APP_ARN = 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-notifications';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-notifications-dlq';

/** A stack whose NodejsFunctions are not bundled: these tests are about the template (test/lib/herald-stack.test.ts bundles). */
function setUp() {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
  const table = dynamodb.Table.fromTableArn(stack, 'Table', TABLE_ARN);
  const httpApi = new apigwv2.HttpApi(stack, 'HttpApi');
  const queue = sqs.Queue.fromQueueArn(stack, 'Queue', QUEUE_ARN);
  const deadLetterQueue = sqs.Queue.fromQueueArn(stack, 'DeadLetterQueue', DLQ_ARN);
  const admin = new AdminApi(stack, 'Admin', { httpApi, table, queue, deadLetterQueue, platformEnvironment: { HERALD_FCM_APP_ARN: FCM_APP_ARN } });
  return { stack, admin };
}

function synth() {
  const { stack, admin } = setUp();
  return { stack, admin, template: Template.fromStack(stack) };
}

/** The statements of the policies attached to a role. */
function statementsOf(template: Template, roleId: string): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('AdminApi', () => {
  let template: Template;
  let stack: Stack;
  let admin: AdminApi;
  let functionId: string;
  let roleId: string;
  beforeAll(() => {
    ({ stack, admin, template } = synth());
    functionId = stack.getLogicalId(admin.function.node.defaultChild as lambda.CfnFunction);
    roleId = stack.getLogicalId(admin.function.role!.node.defaultChild as iam.CfnRole);
  });

  describe('route', () => {
    test('is ANY /admin/{proxy+}, authorized by AWS IAM', () => {
      template.resourceCountIs(ROUTE, 1);
      template.hasResourceProperties(ROUTE, { RouteKey: 'ANY /admin/{proxy+}', AuthorizationType: 'AWS_IAM' });
    });

    test('needs no authorizer resource: API Gateway checks the SigV4 signature and execute-api:Invoke itself', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
      expect(Object.values(template.findResources(ROUTE))[0]!.Properties.AuthorizerId).toBeUndefined();
    });

    test('reaches the admin function through a Lambda proxy integration with payload format 2.0', () => {
      const [integrationId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Integration'));

      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
      });
      template.hasResourceProperties(ROUTE, { Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] } });
    });
  });

  describe('function', () => {
    test('is Herald\'s function (arm64, Node.js 22, traced) running lambdas/admin', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Herald admin'),
        Architectures: ['arm64'],
        Runtime: 'nodejs22.x',
        TracingConfig: { Mode: 'Active' },
        Handler: 'index.handler',
      });
    });

    test('is told its table and the platform applications', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ TABLE_NAME: 'herald', HERALD_FCM_APP_ARN: FCM_APP_ARN }) },
      });
    });

    test('may read and write the table', () => {
      expect(statementsOf(template, roleId)).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Action: expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']),
          Resource: [TABLE_ARN],
        }),
      );
    });

    test('may create, replace, read and delete secrets under herald/source/ only', () => {
      const secretStatements = statementsOf(template, roleId).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')));

      expect(secretStatements).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue'],
          Resource: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:herald/source/*']],
          },
        },
      ]);
    });

    test('may not publish pushes', () => {
      const actions = statementsOf(template, roleId).flatMap((statement) => [statement.Action].flat());

      expect(actions).not.toContain('sns:Publish');
    });

    test('is told the dead-letter queue (URL and ARN) and the notification queue (ARN) to redrive to', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            QUEUE_ARN: QUEUE_ARN,
            DEAD_LETTER_QUEUE_ARN: DLQ_ARN,
            DEAD_LETTER_QUEUE_URL: { 'Fn::Join': ['', Match.arrayWith(['/123456789012/herald-notifications-dlq'])] },
          }),
        },
      });
    });

    describe('on the queues, only what the dead-letter routes need', () => {
      /** The role's SQS actions by queue ARN. */
      function sqsActionsByQueue(): Record<string, string[]> {
        const byQueue: Record<string, string[]> = {};
        for (const statement of statementsOf(template, roleId)) {
          const actions = [statement.Action].flat().filter((action) => action.startsWith('sqs:'));
          if (actions.length === 0) continue;
          expect(statement.Effect).toBe('Allow');
          for (const resource of [statement.Resource].flat()) (byQueue[resource as string] ??= []).push(...actions);
        }
        return Object.fromEntries(Object.entries(byQueue).map(([queue, actions]) => [queue, [...new Set(actions)].sort()]));
      }

      test('the DLQ: peek (receive, release, count), and run message move tasks, which receive and delete as the caller', () => {
        expect(sqsActionsByQueue()[DLQ_ARN]).toEqual([
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ListMessageMoveTasks',
          'sqs:ReceiveMessage',
          'sqs:StartMessageMoveTask',
        ]);
      });

      test('the notification queue: SendMessage only, the move task\'s destination', () => {
        expect(sqsActionsByQueue()[QUEUE_ARN]).toEqual(['sqs:SendMessage']);
      });

      test('no other queue, and no SQS action on a wildcard', () => {
        expect(Object.keys(sqsActionsByQueue()).sort()).toEqual([QUEUE_ARN, DLQ_ARN].sort());
      });

      test('neither purge, delete nor reconfigure a queue', () => {
        const actions = Object.values(sqsActionsByQueue()).flat();

        for (const action of ['sqs:PurgeQueue', 'sqs:DeleteQueue', 'sqs:SetQueueAttributes', 'sqs:*']) expect(actions).not.toContain(action);
      });
    });

    test('API Gateway may invoke it for this API only', () => {
      const [apiId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'));

      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
        Principal: 'apigateway.amazonaws.com',
        SourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }, '/*/*/admin/{proxy+}'])] },
      });
    });
  });

  test('grantInvoke lets a principal call every admin route (execute-api:Invoke on /admin/*)', () => {
    // GIVEN
    const { stack: grantStack, admin: grantAdmin } = setUp();
    const operator = new iam.Role(grantStack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN
    grantAdmin.grantInvoke(operator);

    // THEN
    const granted = Template.fromStack(grantStack);
    const [apiId] = Object.keys(granted.findResources('AWS::ApiGatewayV2::Api'));
    granted.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: grantStack.getLogicalId(operator.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'execute-api:Invoke',
            Resource: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }, '/*/*/admin/*'])] },
          }),
        ],
      },
    });
  });
});
