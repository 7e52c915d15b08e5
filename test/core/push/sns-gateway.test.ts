import {
  AuthorizationErrorException,
  CreatePlatformEndpointCommand,
  EndpointDisabledException,
  GetEndpointAttributesCommand,
  InternalErrorException,
  InvalidParameterException,
  KMSThrottlingException,
  NotFoundException,
  PlatformApplicationDisabledException,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSClient,
  SNSServiceException,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { PushError, type PublishInput } from '../../../lambdas/core/push/gateway';
import { classifyPublishError, SnsPushGateway } from '../../../lambdas/core/push/sns-gateway';

const APP_ARN = 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns';
const ENDPOINT_ARN = 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/abc';
const NEW_ENDPOINT_ARN = 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/def';
const TOKEN = '8f2a4c6e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a';
const OLD_TOKEN = '1111111111111111111111111111111111111111111111111111111111111111';

const snsMock = mockClient(SNSClient);

/** Every command the gateway sent, in order, as {command, input}: asserts order and exact shapes at once. */
function sentCommands(): { command: unknown; input: unknown }[] {
  return snsMock.calls().map((call) => ({ command: call.args[0].constructor, input: call.args[0].input }));
}

const create = (input: object) => ({ command: CreatePlatformEndpointCommand, input });
const get = (endpointArn: string) => ({ command: GetEndpointAttributesCommand, input: { EndpointArn: endpointArn } });
const set = (endpointArn: string, token: string) => ({
  command: SetEndpointAttributesCommand,
  input: { EndpointArn: endpointArn, Attributes: { Token: token, Enabled: 'true' } },
});

const notFound = () => new NotFoundException({ message: 'Endpoint does not exist', $metadata: { httpStatusCode: 404 } });

beforeEach(() => {
  snsMock.reset();
});

describe('SnsPushGateway.ensureEndpoint, a new token', () => {
  test('creates with only the application ARN and token, reads it back, and sets nothing when it is enabled', async () => {
    snsMock.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: ENDPOINT_ARN });
    snsMock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: TOKEN, Enabled: 'true' } });

    const endpointArn = await new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN);

    expect(endpointArn).toBe(ENDPOINT_ARN);
    expect(sentCommands()).toStrictEqual([create({ PlatformApplicationArn: APP_ARN, Token: TOKEN }), get(ENDPOINT_ARN)]);
  });

  test('enables an existing disabled endpoint that the create returned', async () => {
    // "create ... succeeds but does not enable the platform endpoint" (aws-notes.md §1.5)
    snsMock.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: ENDPOINT_ARN });
    snsMock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: TOKEN, Enabled: 'false' } });

    const endpointArn = await new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN);

    expect(endpointArn).toBe(ENDPOINT_ARN);
    expect(sentCommands()).toStrictEqual([create({ PlatformApplicationArn: APP_ARN, Token: TOKEN }), get(ENDPOINT_ARN), set(ENDPOINT_ARN, TOKEN)]);
  });

  test('recovers the ARN from "already exists with the same Token, but different attributes" and repairs it', async () => {
    snsMock.on(CreatePlatformEndpointCommand).rejects(
      new InvalidParameterException({
        message: `Invalid parameter: Token Reason: Endpoint ${ENDPOINT_ARN} already exists with the same Token, but different attributes.`,
        $metadata: { httpStatusCode: 400 },
      }),
    );
    snsMock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: TOKEN, Enabled: 'false', CustomUserData: 'legacy' } });

    const endpointArn = await new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN);

    expect(endpointArn).toBe(ENDPOINT_ARN);
    expect(sentCommands()).toStrictEqual([create({ PlatformApplicationArn: APP_ARN, Token: TOKEN }), get(ENDPOINT_ARN), set(ENDPOINT_ARN, TOKEN)]);
  });
});

describe('SnsPushGateway.ensureEndpoint, a known endpoint', () => {
  test('only reads a healthy endpoint: no create, no set', async () => {
    snsMock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: TOKEN, Enabled: 'true' } });

    const endpointArn = await new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN, ENDPOINT_ARN);

    expect(endpointArn).toBe(ENDPOINT_ARN);
    expect(sentCommands()).toStrictEqual([get(ENDPOINT_ARN)]);
  });

  test('updates the token when the app reports a new one', async () => {
    snsMock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: OLD_TOKEN, Enabled: 'true' } });

    const endpointArn = await new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN, ENDPOINT_ARN);

    expect(endpointArn).toBe(ENDPOINT_ARN);
    expect(sentCommands()).toStrictEqual([get(ENDPOINT_ARN), set(ENDPOINT_ARN, TOKEN)]);
  });

  test('re-enables a disabled endpoint', async () => {
    snsMock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: TOKEN, Enabled: 'false' } });

    await new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN, ENDPOINT_ARN);

    expect(sentCommands()).toStrictEqual([get(ENDPOINT_ARN), set(ENDPOINT_ARN, TOKEN)]);
  });

  test('creates the endpoint again when the known one is gone', async () => {
    snsMock.on(GetEndpointAttributesCommand, { EndpointArn: ENDPOINT_ARN }).rejects(notFound());
    snsMock.on(GetEndpointAttributesCommand, { EndpointArn: NEW_ENDPOINT_ARN }).resolves({ Attributes: { Token: TOKEN, Enabled: 'true' } });
    snsMock.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: NEW_ENDPOINT_ARN });

    const endpointArn = await new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN, ENDPOINT_ARN);

    expect(endpointArn).toBe(NEW_ENDPOINT_ARN);
    expect(sentCommands()).toStrictEqual([
      get(ENDPOINT_ARN),
      create({ PlatformApplicationArn: APP_ARN, Token: TOKEN }),
      get(NEW_ENDPOINT_ARN),
    ]);
  });
});

describe('SnsPushGateway.ensureEndpoint, failures', () => {
  test('propagates an InvalidParameter create error that names no existing endpoint', async () => {
    const error = new InvalidParameterException({
      message: 'Invalid parameter: Token Reason: This endpoint is already registered with a different token.',
      $metadata: { httpStatusCode: 400 },
    });
    snsMock.on(CreatePlatformEndpointCommand).rejects(error);

    await expect(new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN)).rejects.toBe(error);
    expect(sentCommands()).toHaveLength(1);
  });

  test('propagates an authorization error from the create', async () => {
    const error = new AuthorizationErrorException({ message: 'not authorized', $metadata: { httpStatusCode: 403 } });
    snsMock.on(CreatePlatformEndpointCommand).rejects(error);

    await expect(new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN)).rejects.toBe(error);
  });

  test('propagates a read error other than NotFound, without creating', async () => {
    const error = new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });
    snsMock.on(GetEndpointAttributesCommand).rejects(error);

    await expect(new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN, ENDPOINT_ARN)).rejects.toBe(error);
    expect(snsMock).not.toHaveReceivedCommand(CreatePlatformEndpointCommand);
  });

  test('propagates a failed repair', async () => {
    const error = new InternalErrorException({ message: 'internal', $metadata: { httpStatusCode: 500 } });
    snsMock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Token: OLD_TOKEN, Enabled: 'true' } });
    snsMock.on(SetEndpointAttributesCommand).rejects(error);

    await expect(new SnsPushGateway(new SNSClient({})).ensureEndpoint(APP_ARN, TOKEN, ENDPOINT_ARN)).rejects.toBe(error);
  });
});

describe('SnsPushGateway.publish', () => {
  const input: PublishInput = {
    TargetArn: ENDPOINT_ARN,
    MessageStructure: 'json',
    Message: JSON.stringify({ default: 'Login', APNS: JSON.stringify({ aps: { alert: { title: 'Login' } } }) }),
    MessageAttributes: { 'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' } },
  };

  test('sends the input unchanged and returns the message id', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'b1946ac9-2c1f-5b5e-9f4b-4f1e3a2b1c0d' });

    const messageId = await new SnsPushGateway(new SNSClient({})).publish(input);

    expect(messageId).toBe('b1946ac9-2c1f-5b5e-9f4b-4f1e3a2b1c0d');
    expect(sentCommands()).toStrictEqual([{ command: PublishCommand, input }]);
  });

  test('throws a classified PushError', async () => {
    snsMock.on(PublishCommand).rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: { httpStatusCode: 400 } }));

    const failure = await new SnsPushGateway(new SNSClient({})).publish(input).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(PushError);
    expect(failure).toMatchObject({ kind: 'endpoint_disabled', reason: 'EndpointDisabledException' });
  });
});

describe('classifyPublishError', () => {
  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

  test('EndpointDisabledException is endpoint_disabled', () => {
    const error = new EndpointDisabledException({ message: 'Endpoint is disabled', ...meta(400) });

    expect(classifyPublishError(error)).toMatchObject({ kind: 'endpoint_disabled', reason: 'EndpointDisabledException' });
  });

  test.each([
    ['ThrottledException', new ThrottledException({ message: 'Rate exceeded', ...meta(429) })],
    ['InternalErrorException', new InternalErrorException({ message: 'internal', ...meta(500) })],
    ['KMSThrottlingException', new KMSThrottlingException({ message: 'kms', ...meta(400) })],
    // App-wide credentials problem: retried (and alarmed on) until someone fixes the credentials.
    ['PlatformApplicationDisabledException', new PlatformApplicationDisabledException({ message: 'disabled', ...meta(400) })],
    [
      'an unknown error answered 500',
      new SNSServiceException({ name: 'InternalFailure', $fault: 'server', message: 'boom', ...meta(500) }),
    ],
    [
      'an unknown error answered 503',
      new SNSServiceException({ name: 'ServiceUnavailableError', $fault: 'server', message: 'busy', ...meta(503) }),
    ],
    ['an unknown error answered 429', new SNSServiceException({ name: 'TooManyRequests', $fault: 'client', message: 'slow', ...meta(429) })],
    ['a network error without $metadata', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('%s is retryable', (_name, error) => {
    expect(classifyPublishError(error).kind).toBe('retryable');
  });

  test.each([
    ['InvalidParameterException (400)', new InvalidParameterException({ message: 'Invalid parameter: Message too long', ...meta(400) })],
    ['NotFoundException (404)', notFound()],
    ['AuthorizationErrorException (403)', new AuthorizationErrorException({ message: 'denied', ...meta(403) })],
  ])('%s is permanent', (_name, error) => {
    expect(classifyPublishError(error).kind).toBe('permanent');
  });

  test('keeps the error name as the reason, never the message', () => {
    const error = new InvalidParameterException({ message: `Invalid parameter: TargetArn ${ENDPOINT_ARN}`, ...meta(400) });

    expect(classifyPublishError(error)).toMatchObject({ reason: 'InvalidParameterException', message: 'permanent: InvalidParameterException' });
  });
});
