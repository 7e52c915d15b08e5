import { ArnFormat, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HeraldFunction } from './herald-function';

/**
 * Sources' signing keys (`herald/source/<bucket id>/<source>`, lambdas/core/sources/vault.ts): one
 * secret each, created at run time through the admin API, so only a prefix can be granted.
 */
export function sourceSigningKeysArn(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: 'herald/source/*',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The cdk-nag finding a grant on `sourceSigningKeysArn` causes, as cdk-nag prints it. */
export const SOURCE_SIGNING_KEYS_NAG_ID =
  'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:herald/source/*]';

/** A custom domain for the API, so the URLs pasted into identity providers survive a re-created stack. */
export interface ApiDomainProps {
  /** A host name such as `push.example.com` (no scheme, no path, no wildcard). */
  readonly domainName: string;
  /** An ACM certificate for that name, in the stack's region (API Gateway's regional endpoint). */
  readonly certificate: acm.ICertificate;
}

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
  /**
   * Serve the API at a custom domain too (the execute-api endpoint stays): a regional API Gateway
   * domain name, TLS 1.2, mapped to the `$default` stage. Point a CNAME or alias at `domainTarget`.
   * @default - no custom domain; `url` is the execute-api endpoint
   */
  readonly domain?: ApiDomainProps;
}

/**
 * Herald's public HTTP API (API Gateway HTTP API, payload 2.0) and the ingest Lambda behind it.
 * Access logs are JSON and deliberately omit query strings and headers: magic codes and tokens
 * travel there.
 */
export class Api extends Construct {
  /**
   * Named routes; every other path reaches the same Lambda through `$default` (ntfy topics, typed
   * 404s), except `/admin/…`, which `AdminApi` routes to the admin Lambda behind an IAM authorizer.
   */
  static readonly ROUTES: readonly { path: string; methods: apigwv2.HttpMethod[] }[] = [
    { path: '/transform', methods: [apigwv2.HttpMethod.POST] },
    { path: '/api/v1/messages/transform', methods: [apigwv2.HttpMethod.POST] },
    { path: '/message', methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET] },
    { path: '/api/v1/messages', methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET] },
    { path: '/template', methods: [apigwv2.HttpMethod.POST] },
    { path: '/api/v1/messages/template', methods: [apigwv2.HttpMethod.POST] },
    { path: '/devices', methods: [apigwv2.HttpMethod.POST] },
    { path: '/health', methods: [apigwv2.HttpMethod.GET] },
    { path: '/openapi.json', methods: [apigwv2.HttpMethod.GET] },
    // GET for Okta's one-time verification request.
    { path: '/webhooks/{source}', methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET] },
  ];

  public readonly httpApi: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly ingestFunction: lambda.IFunction;
  public readonly accessLogGroup: logs.ILogGroup;
  /** The custom domain, when `domain` is given. */
  public readonly domainName?: apigwv2.DomainName;
  /** The custom domain as given (a literal in the outputs, not a reference). */
  private readonly customHost?: string;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 50;
    const burstLimit = props.burstLimit ?? 100;
    for (const [name, value] of Object.entries({ rateLimit, burstLimit })) {
      if (!Token.isUnresolved(value) && (value < 1 || value > 10_000)) {
        throw new Error(`${name} must be between 1 and 10000 (given ${value})`);
      }
    }
    if (props.domain) validateDomainName(props.domain.domainName);

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
    ingest.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [sourceSigningKeysArn(this)] }));
    Validations.of(ingest.role!).acknowledge({
      id: SOURCE_SIGNING_KEYS_NAG_ID,
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

    if (props.domain) {
      this.customHost = props.domain.domainName;
      this.domainName = new apigwv2.DomainName(this, 'DomainName', {
        domainName: props.domain.domainName,
        certificate: props.domain.certificate,
        endpointType: apigwv2.EndpointType.REGIONAL,
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
      new apigwv2.ApiMapping(this, 'DomainMapping', { api: this.httpApi, domainName: this.domainName, stage: this.stage });
    }

    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Identity providers cannot sign requests for an API Gateway authorizer; the ingest Lambda authenticates every route itself (hashed bucket tokens, magic codes, source signatures) and /health is public by design.',
    });
  }

  /** The API's base URL, without a trailing slash: the custom domain's when there is one. */
  get url(): string {
    return this.customHost ? `https://${this.customHost}` : this.httpApi.apiEndpoint;
  }

  /** The host name a CNAME or alias record for the custom domain points at; undefined without one. */
  get domainTarget(): string | undefined {
    return this.domainName?.regionalDomainName;
  }
}

/** A DNS host name of two or more labels (RFC 1123), lower-case as API Gateway stores it. */
function validateDomainName(domainName: string): void {
  if (Token.isUnresolved(domainName)) return;
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  if (domainName.length > 253 || !new RegExp(`^(?:${label}\\.)+${label}$`).test(domainName)) {
    throw new Error(`domainName must be a lower-case host name such as push.example.com, without scheme, path or wildcard (given "${domainName}")`);
  }
}
