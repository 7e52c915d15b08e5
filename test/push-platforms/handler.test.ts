import { generateKeyPairSync } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  CreatePlatformApplicationCommand,
  DeletePlatformApplicationCommand,
  InvalidParameterException,
  NotFoundException,
  SetPlatformApplicationAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../lambdas/push-platforms/index';

// Throwaway keys made per run: the tests need PEM-shaped credentials, never real ones.
const newPrivateKey = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const APNS_SECRET = {
  signingKey: newPrivateKey(),
  keyId: 'ABC123DEFG',
  teamId: 'DEF123GHIJ',
  bundleId: 'com.example.app',
};
const ROTATED_APNS_SECRET = { ...APNS_SECRET, signingKey: newPrivateKey(), keyId: 'ZYX987WVUT' };
const SERVICE_ACCOUNT = {
  type: 'service_account',
  project_id: 'herald-test',
  private_key_id: '0123456789abcdef0123456789abcdef01234567',
  private_key: newPrivateKey(),
  client_email: 'sns@herald-test.iam.gserviceaccount.com',
  client_id: '123456789012345678901',
};
// As downloaded: pretty-printed. SNS must get this string, not a re-serialization.
const SERVICE_ACCOUNT_FILE = JSON.stringify(SERVICE_ACCOUNT, null, 2);

const ACCOUNT = '123456789012';
const APNS_ARN = `arn:aws:sns:us-east-1:${ACCOUNT}:app/APNS/herald-apns`;
const FCM_ARN = `arn:aws:sns:us-east-1:${ACCOUNT}:app/GCM/herald-fcm`;
const SERVICE_TOKEN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:framework-onEvent`;

/** Every credential value and each line of every key: none may appear in any output. */
const CREDENTIAL_FRAGMENTS = [APNS_SECRET, ROTATED_APNS_SECRET, SERVICE_ACCOUNT]
  .flatMap((secret) => Object.values(secret))
  .flatMap((value) => [value, ...value.split('\n')])
  .filter((fragment) => fragment.length >= 8 && !fragment.startsWith('-----') && fragment !== 'service_account');

function expectNoCredential(output: unknown): void {
  const text = typeof output === 'string' ? output : JSON.stringify(output);
  for (const fragment of CREDENTIAL_FRAGMENTS) expect(text).not.toContain(fragment);
}

const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);
const logged: unknown[] = [];
const logger = { info: (...args: unknown[]) => logged.push(args) } as unknown as Logger;
const handler = createHandler({ sns: new SNSClient({}), secrets: new SecretsManagerClient({}), logger });

function givenSecret(secretId: string, secretString: string): void {
  secrets.on(GetSecretValueCommand, { SecretId: secretId }).resolves({ SecretString: secretString });
}

const apnsProperties = { ServiceToken: SERVICE_TOKEN, Name: 'herald-apns', Platform: 'APNS', SecretId: 'herald/apns' };
const fcmProperties = { ServiceToken: SERVICE_TOKEN, Name: 'herald-fcm', Platform: 'GCM', SecretId: 'herald/fcm' };

const common = {
  ServiceToken: SERVICE_TOKEN,
  ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
  StackId: `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/Test/guid`,
  RequestId: 'request-1',
  LogicalResourceId: 'PushApnsApp',
  ResourceType: 'Custom::SnsPlatformApplication',
};

function createEvent(properties: Record<string, unknown>): CloudFormationCustomResourceCreateEvent {
  return { ...common, RequestType: 'Create', ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties } };
}

function updateEvent(
  physicalResourceId: string,
  properties: Record<string, unknown>,
  oldProperties: Record<string, unknown>,
): CloudFormationCustomResourceUpdateEvent {
  return {
    ...common,
    RequestType: 'Update',
    PhysicalResourceId: physicalResourceId,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...properties },
    OldResourceProperties: { ServiceToken: SERVICE_TOKEN, ...oldProperties },
  };
}

function deleteEvent(physicalResourceId: string): CloudFormationCustomResourceDeleteEvent {
  return {
    ...common,
    RequestType: 'Delete',
    PhysicalResourceId: physicalResourceId,
    ResourceProperties: apnsProperties,
  };
}

/** Runs the handler expecting a failure; returns the error message after checking it leaks nothing. */
async function failureMessage(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => {
      throw new Error('expected the handler to fail');
    },
    (e: unknown) => e as Error,
  );
  expectNoCredential(error.message);
  expectNoCredential(String(error.stack));
  return error.message;
}

beforeEach(() => {
  sns.reset();
  secrets.reset();
  logged.length = 0;
  givenSecret('herald/apns', JSON.stringify(APNS_SECRET));
  givenSecret('herald/fcm', SERVICE_ACCOUNT_FILE);
});

afterEach(() => {
  // Whatever happened, nothing read from a secret was logged.
  expectNoCredential(logged);
});

test('the leak check recognises every credential, and each line of a key', () => {
  expect(() => expectNoCredential(`… ${APNS_SECRET.signingKey.split('\n')[1]} …`)).toThrow();
  expect(() => expectNoCredential({ keyId: APNS_SECRET.keyId })).toThrow();
  expect(() => expectNoCredential(SERVICE_ACCOUNT.private_key)).toThrow();
});

describe('Create', () => {
  test('creates an APNs token-auth application from the secret', async () => {
    // GIVEN
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: APNS_ARN });

    // WHEN
    const response = await handler(createEvent(apnsProperties));

    // THEN
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'herald/apns' });
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformApplicationCommand, 1);
    expect(sns.commandCalls(CreatePlatformApplicationCommand)[0].args[0].input).toEqual({
      Name: 'herald-apns',
      Platform: 'APNS',
      Attributes: {
        PlatformCredential: APNS_SECRET.signingKey,
        PlatformPrincipal: 'ABC123DEFG',
        ApplePlatformTeamID: 'DEF123GHIJ',
        ApplePlatformBundleID: 'com.example.app',
      },
    });
    expect(response).toEqual({ PhysicalResourceId: APNS_ARN, Data: { PlatformApplicationArn: APNS_ARN } });
    expectNoCredential(response);
  });

  test('creates the APNs sandbox application from the same secret', async () => {
    const sandboxArn = `arn:aws:sns:us-east-1:${ACCOUNT}:app/APNS_SANDBOX/herald-apns-sandbox`;
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: sandboxArn });

    const response = await handler(
      createEvent({ ...apnsProperties, Name: 'herald-apns-sandbox', Platform: 'APNS_SANDBOX' }),
    );

    expect(sns).toHaveReceivedCommandWith(CreatePlatformApplicationCommand, {
      Name: 'herald-apns-sandbox',
      Platform: 'APNS_SANDBOX',
    });
    expect(response.PhysicalResourceId).toBe(sandboxArn);
    expectNoCredential(response);
  });

  test('creates an FCM application with the service-account file as it was stored', async () => {
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: FCM_ARN });

    const response = await handler(createEvent(fcmProperties));

    expect(sns.commandCalls(CreatePlatformApplicationCommand)[0].args[0].input).toEqual({
      Name: 'herald-fcm',
      Platform: 'GCM',
      Attributes: { PlatformCredential: SERVICE_ACCOUNT_FILE },
    });
    expect(response).toEqual({ PhysicalResourceId: FCM_ARN, Data: { PlatformApplicationArn: FCM_ARN } });
    expectNoCredential(response);
  });

  test('passes the optional delivery-status and event attributes through', async () => {
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: FCM_ARN });
    const options = {
      SuccessFeedbackRoleArn: `arn:aws:iam::${ACCOUNT}:role/sns-feedback`,
      FailureFeedbackRoleArn: `arn:aws:iam::${ACCOUNT}:role/sns-feedback`,
      SuccessFeedbackSampleRate: '10',
      EventEndpointDeleted: `arn:aws:sns:us-east-1:${ACCOUNT}:endpoint-events`,
      EventEndpointUpdated: `arn:aws:sns:us-east-1:${ACCOUNT}:endpoint-events`,
      EventDeliveryFailure: `arn:aws:sns:us-east-1:${ACCOUNT}:delivery-failures`,
    };

    await handler(createEvent({ ...fcmProperties, ...options }));

    expect(sns.commandCalls(CreatePlatformApplicationCommand)[0].args[0].input.Attributes).toEqual({
      PlatformCredential: SERVICE_ACCOUNT_FILE,
      ...options,
    });
  });

  test('refuses an out-of-range sample rate, naming it', async () => {
    const message = await failureMessage(handler(createEvent({ ...fcmProperties, SuccessFeedbackSampleRate: '150' })));
    expect(message).toBe('SuccessFeedbackSampleRate must be an integer from 0 to 100 (given "150")');
    expect(sns).not.toHaveReceivedCommand(CreatePlatformApplicationCommand);
  });

  test('refuses an unknown platform, naming it', async () => {
    const message = await failureMessage(handler(createEvent({ ...apnsProperties, Platform: 'ADM' })));
    expect(message).toBe('Platform must be APNS, APNS_SANDBOX or GCM (given "ADM")');
  });

  test('cuts credentials out of an SNS error that quotes them', async () => {
    sns.on(CreatePlatformApplicationCommand).rejects(
      new InvalidParameterException({
        message: `Invalid parameter: Attributes Reason: bad credential ${APNS_SECRET.signingKey} for ${APNS_SECRET.keyId}`,
        $metadata: {},
      }),
    );

    const message = await failureMessage(handler(createEvent(apnsProperties)));

    expect(message).toMatch(
      /^CreatePlatformApplication APNS\/herald-apns failed: InvalidParameterException: Invalid parameter: .*\[redacted\]/,
    );
  });
});

describe('Update', () => {
  test('applies a rotated secret in place and keeps the physical id', async () => {
    // GIVEN the secret was rotated since the application was created
    secrets.reset();
    givenSecret('herald/apns', JSON.stringify(ROTATED_APNS_SECRET));

    // WHEN the stack is deployed with a new revision
    const response = await handler(
      updateEvent(APNS_ARN, { ...apnsProperties, Revision: '2' }, { ...apnsProperties, Revision: '1' }),
    );

    // THEN
    expect(sns.commandCalls(SetPlatformApplicationAttributesCommand)[0].args[0].input).toEqual({
      PlatformApplicationArn: APNS_ARN,
      Attributes: {
        PlatformCredential: ROTATED_APNS_SECRET.signingKey,
        PlatformPrincipal: 'ZYX987WVUT',
        ApplePlatformTeamID: 'DEF123GHIJ',
        ApplePlatformBundleID: 'com.example.app',
      },
    });
    expect(sns).not.toHaveReceivedCommand(CreatePlatformApplicationCommand);
    expect(response).toEqual({ PhysicalResourceId: APNS_ARN, Data: { PlatformApplicationArn: APNS_ARN } });
    expectNoCredential(response);
  });

  test('clears an optional attribute that was removed', async () => {
    const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:delivery-failures`;

    await handler(updateEvent(FCM_ARN, fcmProperties, { ...fcmProperties, EventDeliveryFailure: topic }));

    expect(sns).toHaveReceivedCommandWith(SetPlatformApplicationAttributesCommand, {
      PlatformApplicationArn: FCM_ARN,
      Attributes: { PlatformCredential: SERVICE_ACCOUNT_FILE, EventDeliveryFailure: '' },
    });
  });

  test('creates a new application when the Name changes, returning the new physical id', async () => {
    const renamedArn = `arn:aws:sns:us-east-1:${ACCOUNT}:app/APNS/push-apns`;
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: renamedArn });

    const response = await handler(updateEvent(APNS_ARN, { ...apnsProperties, Name: 'push-apns' }, apnsProperties));

    expect(sns).toHaveReceivedCommandWith(CreatePlatformApplicationCommand, { Name: 'push-apns', Platform: 'APNS' });
    // CloudFormation deletes the old application itself, after the update succeeds.
    expect(sns).not.toHaveReceivedCommand(DeletePlatformApplicationCommand);
    expect(sns).not.toHaveReceivedCommand(SetPlatformApplicationAttributesCommand);
    expect(response).toEqual({ PhysicalResourceId: renamedArn, Data: { PlatformApplicationArn: renamedArn } });
    expectNoCredential(response);
  });

  test('creates a new application when the Platform changes', async () => {
    const sandboxArn = `arn:aws:sns:us-east-1:${ACCOUNT}:app/APNS_SANDBOX/herald-apns`;
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: sandboxArn });

    const response = await handler(
      updateEvent(APNS_ARN, { ...apnsProperties, Platform: 'APNS_SANDBOX' }, apnsProperties),
    );

    expect(sns).toHaveReceivedCommandWith(CreatePlatformApplicationCommand, { Platform: 'APNS_SANDBOX' });
    expect(response.PhysicalResourceId).toBe(sandboxArn);
  });
});

describe('Delete', () => {
  test('deletes the application', async () => {
    sns.on(DeletePlatformApplicationCommand).resolves({});

    const response = await handler(deleteEvent(APNS_ARN));

    expect(sns).toHaveReceivedCommandWith(DeletePlatformApplicationCommand, { PlatformApplicationArn: APNS_ARN });
    expect(secrets).not.toHaveReceivedCommand(GetSecretValueCommand);
    expect(response).toEqual({ PhysicalResourceId: APNS_ARN });
  });

  test('treats an application that is already gone as deleted', async () => {
    sns.on(DeletePlatformApplicationCommand).rejects(new NotFoundException({ message: 'not found', $metadata: {} }));

    await expect(handler(deleteEvent(APNS_ARN))).resolves.toEqual({ PhysicalResourceId: APNS_ARN });
  });

  test('does nothing for a physical id that is not an application ARN (a failed create)', async () => {
    const placeholder = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

    await expect(handler(deleteEvent(placeholder))).resolves.toEqual({ PhysicalResourceId: placeholder });

    expect(sns).not.toHaveReceivedCommand(DeletePlatformApplicationCommand);
  });

  test('fails on any other SNS error', async () => {
    sns.on(DeletePlatformApplicationCommand).rejects(new Error('Throttling'));

    await expect(handler(deleteEvent(APNS_ARN))).rejects.toThrow(/DeletePlatformApplication .*herald-apns failed/);
  });
});

describe('secrets', () => {
  test('a missing secret fails naming it and how to create it', async () => {
    secrets.reset();
    secrets.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
    );

    const message = await failureMessage(handler(createEvent(apnsProperties)));

    expect(message).toContain('APNs secret herald/apns not found');
    expect(message).toContain('aws secretsmanager create-secret --name herald/apns --secret-string file://');
    expect(sns).not.toHaveReceivedCommand(CreatePlatformApplicationCommand);
  });

  test('a missing FCM secret says to store the service-account file', async () => {
    secrets.reset();
    secrets.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));

    const message = await failureMessage(handler(createEvent(fcmProperties)));

    expect(message).toContain(
      'FCM secret herald/fcm not found. Create it with: aws secretsmanager create-secret --name herald/fcm ' +
        '--secret-string file://service-account.json',
    );
  });

  test.each(['signingKey', 'keyId', 'teamId', 'bundleId'])('an APNs secret without %s fails naming it', async (field) => {
    const { [field as keyof typeof APNS_SECRET]: _omitted, ...rest } = APNS_SECRET;
    givenSecret('herald/apns', JSON.stringify(rest));

    const message = await failureMessage(handler(createEvent(apnsProperties)));

    expect(message).toBe(`APNs secret herald/apns: missing "${field}"`);
    expect(sns).not.toHaveReceivedCommand(CreatePlatformApplicationCommand);
  });

  test('an APNs key id of the wrong length fails without echoing it', async () => {
    givenSecret('herald/apns', JSON.stringify({ ...APNS_SECRET, keyId: 'ABC123DEFGHIJ' }));

    const message = await failureMessage(handler(createEvent(apnsProperties)));

    expect(message).toBe('APNs secret herald/apns: "keyId" must be 10 upper-case letters or digits (13 characters given)');
    expect(message).not.toContain('ABC123DEFGHIJ');
  });

  test('an APNs secret holding the bare .p8 file (not JSON) fails without quoting it', async () => {
    givenSecret('herald/apns', APNS_SECRET.signingKey);

    const message = await failureMessage(handler(createEvent(apnsProperties)));

    expect(message).toBe('APNs secret herald/apns: not valid JSON');
  });

  test.each(['project_id', 'private_key', 'client_email'])('an FCM secret without %s fails naming it', async (field) => {
    const { [field as keyof typeof SERVICE_ACCOUNT]: _omitted, ...rest } = SERVICE_ACCOUNT;
    givenSecret('herald/fcm', JSON.stringify(rest));

    const message = await failureMessage(handler(createEvent(fcmProperties)));

    expect(message).toBe(`FCM secret herald/fcm: missing "${field}"`);
  });

  test('an FCM secret that is not a service-account file fails naming "type"', async () => {
    givenSecret('herald/fcm', JSON.stringify({ ...SERVICE_ACCOUNT, type: 'authorized_user' }));

    const message = await failureMessage(handler(createEvent(fcmProperties)));

    expect(message).toMatch(/^FCM secret herald\/fcm: "type" must be "service_account"/);
    expect(message).not.toContain('authorized_user');
  });

  test('a rotated secret that is malformed fails the update and changes nothing', async () => {
    givenSecret('herald/apns', JSON.stringify({ ...ROTATED_APNS_SECRET, teamId: undefined }));

    const message = await failureMessage(
      handler(updateEvent(APNS_ARN, { ...apnsProperties, Revision: '2' }, apnsProperties)),
    );

    expect(message).toBe('APNs secret herald/apns: missing "teamId"');
    expect(sns).not.toHaveReceivedCommand(SetPlatformApplicationAttributesCommand);
  });
});
