import { ArnFormat, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HeraldFunction } from './herald-function';

export interface ApiProps {
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  /** Environment naming the SNS platform applications (`HERALD_*_APP_ARN`), empty when none. */
  readonly platformEnvironment?: Record<string, string>;
  /**
   * Steady-state requests per second for the whole stage.
   * @default 50
   */
  readonly rateLimit?: number;
  /**
   * Burst of requests the stage absorbs above the rate.
   * @default 100
   */
  readonly burstLimit?: number;
  /**
   * Retention of the access logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * Herald's public HTTP API (API Gateway HTTP API, payload 2.0) and the ingest Lambda behind it.
 * Access logs are JSON and deliberately omit query strings and headers: magic codes and tokens
 * travel there.
 */
export class Api extends Construct {
  /** Named routes; every other path reaches the same Lambda through `$default` (ntfy topics, typed 404s). */
  static readonly ROUTES: readonly { path: string; methods: apigwv2.HttpMethod[] }[] = [
    { path: '/transform', methods: [apigwv2.HttpMethod.POST] },
    { path: '/api/v1/messages/transform', methods: [apigwv2.HttpMethod.POST] },
    { path: '/message', methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET] },
    { path: '/api/v1/messages', methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET] },
    { path: '/devices', methods: [apigwv2.HttpMethod.POST] },
    { path: '/health', methods: [apigwv2.HttpMethod.GET] },
    // GET for Okta's one-time verification request.
    { path: '/webhooks/{source}', methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET] },
  ];

  public readonly httpApi: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly ingestFunction: lambda.IFunction;
  public readonly accessLogGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 50;
    const burstLimit = props.burstLimit ?? 100;
    for (const [name, value] of Object.entries({ rateLimit, burstLimit })) {
      if (!Token.isUnresolved(value) && (value < 1 || value > 10_000)) {
        throw new Error(`${name} must be between 1 and 10000 (given ${value})`);
      }
    }

    const ingest = new HeraldFunction(this, 'IngestFunction', {
      entry: 'ingest',
      description: 'Herald ingest: authenticates webhooks and messages, parses them and queues notifications',
      environment: {
        TABLE_NAME: props.table.tableName,
        QUEUE_URL: props.queue.queueUrl,
        ...props.platformEnvironment,
      },
    });
    props.table.grantReadWriteData(ingest);
    props.queue.grantSendMessages(ingest);
    // Sources' signing keys (`herald/source/<bucket id>/<source>`), created at run time by the CLI.
    const sourceKeys = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: 'herald/source/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    ingest.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [sourceKeys] }));
    Validations.of(ingest.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:herald/source/*]`,
      reason: "Each bucket's source signing key is its own secret, created at run time; the ingest function may only read secrets under Herald's herald/source/ prefix.",
    });
    this.ingestFunction = ingest;

    const integration = new HttpLambdaIntegration('Ingest', ingest);
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Herald: webhooks and messages in, push notifications out',
      createDefaultStage: false,
      defaultIntegration: integration,
    });
    for (const route of Api.ROUTES) this.httpApi.addRoutes({ ...route, integration });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        // $context.path has no query string; no header is logged.
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            error: '$context.error.message',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Identity providers cannot sign requests for an API Gateway authorizer; the ingest Lambda authenticates every route itself (hashed bucket tokens, magic codes, source signatures) and /health is public by design.',
    });
  }

  /** The API's base URL, without a trailing slash. */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
