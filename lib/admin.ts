import { Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SOURCE_SIGNING_KEYS_NAG_ID, sourceSigningKeysArn } from './api';
import { HeraldFunction } from './herald-function';

export interface AdminApiProps {
  /** The HTTP API the `/admin/…` routes are added to (Herald's one API). */
  readonly httpApi: apigwv2.HttpApi;
  readonly table: dynamodb.ITable;
  /** The notification queue: where `herald dlq redrive` moves the dead letters back to. */
  readonly queue: sqs.IQueue;
  /** Its dead-letter queue, which `herald dlq list` reads and `herald dlq redrive` empties. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Environment naming the SNS platform applications (`HERALD_*_APP_ARN`), empty when none. */
  readonly platformEnvironment?: Record<string, string>;
}

/**
 * The management API: `ANY /admin/{proxy+}` on Herald's HTTP API, authorized by AWS IAM (API
 * Gateway verifies the SigV4 signature and the caller's `execute-api:Invoke` permission before the
 * function runs), and the admin Lambda behind it. Secure by construction:
 * - the route has an IAM authorizer, so only principals the account grants can reach the function;
 *   the API's `$default` never sees an `/admin/…` path (and the public router refuses admin routes);
 * - the function may read and write the table, delete device endpoints of Herald's platform
 *   applications (granted by `PushPlatforms.grantEndpointManagement`), and manage secrets under
 *   `herald/source/` only;
 * - on the queues, only what the dead-letter routes need: read the DLQ without consuming it, and
 *   run SQS message move tasks from the DLQ back to the notification queue;
 * - it logs the caller's ARN, never an access key id, token or secret.
 */
export class AdminApi extends Construct {
  /** The route's path; every admin route of lambdas/core/admin/contract.ts is under it. */
  static readonly ROUTE_PATH = '/admin/{proxy+}';

  public readonly function: lambda.IFunction;
  public readonly route: apigwv2.HttpRoute;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    const admin = new HeraldFunction(this, 'Function', {
      entry: 'admin',
      description: 'Herald admin: the IAM-authorized management API (buckets, tokens, magic codes, source secrets, devices, history, dead letters)',
      environment: {
        TABLE_NAME: props.table.tableName,
        QUEUE_ARN: props.queue.queueArn,
        DEAD_LETTER_QUEUE_URL: props.deadLetterQueue.queueUrl,
        DEAD_LETTER_QUEUE_ARN: props.deadLetterQueue.queueArn,
        ...props.platformEnvironment,
      },
    });
    props.table.grantReadWriteData(admin);
    // `herald dlq list` receives the DLQ's messages and makes them visible again, never deleting.
    props.deadLetterQueue.grant(admin, 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes');
    // `herald dlq redrive` is an SQS message move task, which runs with the caller's permissions: it
    // receives and deletes on the source (the DLQ) and sends to the destination (SQS API permissions
    // reference, StartMessageMoveTask). Herald's own code never deletes a dead letter.
    props.deadLetterQueue.grant(admin, 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:DeleteMessage');
    props.queue.grant(admin, 'sqs:SendMessage');
    // `herald secret set|remove` creates, replaces and deletes sources' signing keys, one secret each.
    iam.Grant.addToPrincipal({
      grantee: admin,
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue'],
      resourceArns: [sourceSigningKeysArn(this)],
    });
    Validations.of(admin.role!).acknowledge({
      id: SOURCE_SIGNING_KEYS_NAG_ID,
      reason:
        "Each bucket's source signing key is its own secret, created at run time by the admin API; the admin function may only create, replace, read and delete secrets under Herald's herald/source/ prefix.",
    });
    this.function = admin;

    [this.route] = props.httpApi.addRoutes({
      path: AdminApi.ROUTE_PATH,
      methods: [apigwv2.HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Admin', admin),
      authorizer: new HttpIamAuthorizer(),
    });
  }

  /** Lets `grantee` (an operator's role or a CI role) call every admin route: `execute-api:Invoke` on `/admin/*`. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.route.grantInvoke(grantee);
  }
}
