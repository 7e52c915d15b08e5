import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { AdminEvent } from '../../lambdas/admin';
import type { PublishInput, PushGateway } from '../../lambdas/core/push/gateway';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createStore } from '../../lambdas/core/store/table';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { createHarness } from './harness';

/**
 * The admin Lambda handler itself, with the events API Gateway gives it for `ANY /admin/{proxy+}`:
 * with the IAM authorizer's caller, without one (defense in depth), and with a failing table.
 */

const IAM_CALLER = {
  iam: {
    accessKey: 'ASIAEXAMPLEACCESSKEY',
    accountId: '123456789012',
    callerId: 'AROAEXAMPLE:operator',
    cognitoIdentity: null,
    principalOrgId: '',
    userArn: 'arn:aws:sts::123456789012:assumed-role/HeraldOperator/operator',
    userId: 'AROAEXAMPLE:operator',
  },
};

class RecordingPushGateway implements PushGateway {
  readonly deletedEndpoints: string[] = [];
  async ensureEndpoint(_platformApplicationArn: string, token: string): Promise<string> {
    return `arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/${token.slice(0, 8)}`;
  }
  async publish(_input: PublishInput): Promise<string> {
    return randomUUID();
  }
  async deleteEndpoint(endpointArn: string): Promise<void> {
    this.deletedEndpoints.push(endpointArn);
  }
}

function event(method: string, path: string, options: { body?: unknown; authorized?: boolean } = {}): AdminEvent {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey: 'ANY /admin/{proxy+}',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.us-east-1.amazonaws.com', ...(body ? { 'content-type': 'application/json' } : {}) },
    pathParameters: { proxy: path.replace(/^\/admin\//, '') },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'herald-cli' },
      requestId: randomUUID(),
      routeKey: 'ANY /admin/{proxy+}',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      ...(options.authorized === false ? {} : { authorizer: IAM_CALLER }),
    },
    body,
    isBase64Encoded: false,
  };
}

let logged: string[];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);

beforeAll(async () => {
  // Before the handler (and so its logger) is loaded: the tests read what it logs.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  // A fresh table; the handler finds it through TABLE_NAME, as in the cloud.
  await createHarness();
});

/** Everything the handler logs (errors go to stderr), captured per test. */
beforeEach(() => {
  logged = [];
  const capture = (original: typeof process.stdout.write) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = capture(originalStdout);
  process.stderr.write = capture(originalStderr);
});

afterEach(() => {
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
});

async function invoke(adminEvent: AdminEvent, overrides: Parameters<typeof import('../../lambdas/admin').createAdminHandler>[0] = {}) {
  const { createAdminHandler } = await import('../../lambdas/admin');
  const handler = createAdminHandler({ gateway: new RecordingPushGateway(), platformApplications: {}, vault: new FileVault(), ...overrides });
  const context: Context = lambdaContext('herald-admin', 10_000);
  const result = (await handler(adminEvent, context)) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined, headers: result.headers ?? {} };
}

describe('admin handler', () => {
  test('serves an IAM-authorized caller, and logs the caller\'s ARN but never its access key id', async () => {
    const name = `handler-${randomUUID().slice(0, 6)}`;

    const created = await invoke(event('POST', '/admin/buckets', { body: { name } }));

    expect(created.status).toBe(201);
    expect(created.body.bucket.name).toBe(name);
    const output = logged.join('');
    expect(output).toContain(IAM_CALLER.iam.userArn);
    expect(output).not.toContain(IAM_CALLER.iam.accessKey);
    expect(output).not.toContain(created.body.token);
    expect(output).not.toContain(created.body.magicCode);
  });

  test('refuses every admin route with 403 when the event carries no IAM caller', async () => {
    const name = `unauthorized-${randomUUID().slice(0, 6)}`;

    const refused = await invoke(event('POST', '/admin/buckets', { body: { name }, authorized: false }));

    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'forbidden', message: expect.stringContaining('IAM') });
    expect((await invoke(event('GET', `/admin/buckets/${name}`))).status).toBe(404);
  });

  test('answers 404 not_found for a path that is no management route', async () => {
    const missing = await invoke(event('GET', '/admin/unknown/thing'));

    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not_found', message: 'no route GET /admin/unknown/thing' });
  });

  test('names the field of a validation error', async () => {
    const invalid = await invoke(event('POST', '/admin/buckets', { body: { name: 'ok-name', colour: 'blue' } }));

    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toBe('validation_failed');
    expect(invalid.body.message).toContain('colour');
  });

  test('answers 503 with Retry-After when DynamoDB fails, and logs the cause', async () => {
    const broken = await invoke(event('GET', '/admin/buckets'), { store: createStore(`herald-missing-${randomUUID().slice(0, 8)}`) });

    expect(broken.status).toBe(503);
    expect(broken.body.error).toBe('service_unavailable');
    expect(broken.headers).toMatchObject({ 'retry-after': '5' });
    expect(logged.join('')).toContain('ResourceNotFoundException');
  });
});
