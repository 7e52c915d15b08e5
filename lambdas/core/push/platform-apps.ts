/**
 * SNS platform applications (the APNs and FCM "apps" every device endpoint hangs off), created from
 * credentials kept in Secrets Manager. CloudFormation has no resource for them (aws-notes.md §1.1),
 * so the `push-platforms` custom resource calls these functions; the credentials are read here, at
 * run time, and never reach the template, the logs, an error message or the custom-resource response.
 *
 * Secret formats (the README repeats them):
 *
 * - APNs, token auth (one .p8 key serves both the production and the sandbox gateway): a JSON object
 *   ```json
 *   { "signingKey": "-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----",
 *     "keyId": "ABC123DEFG", "teamId": "DEF123GHIJ", "bundleId": "com.example.app" }
 *   ```
 *   `signingKey` is the contents of the AuthKey_<keyId>.p8 file, `keyId` its 10-character Key ID,
 *   `teamId` the 10-character Apple Developer Team ID, `bundleId` the app's bundle identifier.
 * - FCM, HTTP v1: the Firebase service-account JSON file exactly as downloaded (Firebase console →
 *   Project settings → Service accounts → Generate new private key): `"type": "service_account"`,
 *   `project_id`, `private_key`, `client_email`, …. SNS takes the raw file string as the credential.
 */
import {
  CreatePlatformApplicationCommand,
  DeletePlatformApplicationCommand,
  SetPlatformApplicationAttributesCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PlatformKey } from './types';

export const PLATFORM_KEYS: readonly PlatformKey[] = ['APNS', 'APNS_SANDBOX', 'GCM'];

/** SNS platform application names: 1–256 of [A-Za-z0-9_.-] (CreatePlatformApplication `Name`). */
export const PLATFORM_APPLICATION_NAME = /^[A-Za-z0-9_.-]{1,256}$/;

/** `arn:<partition>:sns:<region>:<account>:app/<PLATFORM>/<name>`: what CreatePlatformApplication returns. */
const PLATFORM_APPLICATION_ARN = /^arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:app\/[A-Z_]+\/[A-Za-z0-9_.-]+$/;

/**
 * Optional attributes set on the application as given (aws-notes.md §1.9, §1.10): delivery-status
 * logging (IAM roles that let SNS write CloudWatch Logs, and the percentage of successes to log)
 * and the topics that receive endpoint events.
 */
export interface PlatformApplicationOptions {
  readonly SuccessFeedbackRoleArn?: string;
  readonly FailureFeedbackRoleArn?: string;
  /** "0" to "100": the percentage of successful deliveries logged. */
  readonly SuccessFeedbackSampleRate?: string;
  readonly EventEndpointCreated?: string;
  readonly EventEndpointDeleted?: string;
  readonly EventEndpointUpdated?: string;
  readonly EventDeliveryFailure?: string;
}

export const OPTION_NAMES = [
  'SuccessFeedbackRoleArn',
  'FailureFeedbackRoleArn',
  'SuccessFeedbackSampleRate',
  'EventEndpointCreated',
  'EventEndpointDeleted',
  'EventEndpointUpdated',
  'EventDeliveryFailure',
] as const satisfies readonly (keyof PlatformApplicationOptions)[];

/** What to create: the SNS name and platform, and the secret holding the credentials. */
export interface PlatformApplicationSpec {
  readonly name: string;
  readonly platform: PlatformKey;
  /** Name or ARN of the Secrets Manager secret, in the format for `platform` (see above). */
  readonly secretId: string;
  /** @default - none of the optional attributes is set */
  readonly options?: PlatformApplicationOptions;
}

export interface PlatformApplicationClients {
  readonly sns: SNSClient;
  readonly secrets: SecretsManagerClient;
}

/** Creates the platform application and returns its ARN. */
export async function createPlatformApplication(
  clients: PlatformApplicationClients,
  spec: PlatformApplicationSpec,
): Promise<string> {
  validateOptions(spec.options ?? {});
  const credentials = await readCredentialAttributes(clients.secrets, spec);
  const output = await callSns(`CreatePlatformApplication ${spec.platform}/${spec.name}`, credentials, () =>
    clients.sns.send(
      new CreatePlatformApplicationCommand({
        Name: spec.name,
        Platform: spec.platform,
        Attributes: { ...credentials, ...optionAttributes(spec.options) },
      }),
    ),
  );
  if (!output.PlatformApplicationArn) {
    throw new Error(`CreatePlatformApplication ${spec.platform}/${spec.name} returned no PlatformApplicationArn`);
  }
  return output.PlatformApplicationArn;
}

/**
 * Re-reads the secret and sets every attribute on an existing application: this is how a rotated
 * secret reaches SNS. Options present in `previousOptions` but no longer in `spec.options` are sent
 * as the empty string, which clears them (as Terraform's aws_sns_platform_application does).
 */
export async function updatePlatformApplication(
  clients: PlatformApplicationClients,
  platformApplicationArn: string,
  spec: PlatformApplicationSpec,
  previousOptions: PlatformApplicationOptions = {},
): Promise<void> {
  validateOptions(spec.options ?? {});
  const credentials = await readCredentialAttributes(clients.secrets, spec);
  const cleared = Object.fromEntries(
    OPTION_NAMES.filter((key) => previousOptions[key] !== undefined && spec.options?.[key] === undefined).map(
      (key) => [key, ''],
    ),
  );
  // APNs token credentials must be sent together (key, key ID, team and bundle), so always send all.
  await callSns(`SetPlatformApplicationAttributes ${spec.platform}/${spec.name}`, credentials, () =>
    clients.sns.send(
      new SetPlatformApplicationAttributesCommand({
        PlatformApplicationArn: platformApplicationArn,
        Attributes: { ...cleared, ...credentials, ...optionAttributes(spec.options) },
      }),
    ),
  );
}

/**
 * Deletes the application. Already gone counts as deleted, and an id that is not a platform
 * application ARN (the custom-resource framework's placeholder after a failed create) is a no-op.
 */
export async function deletePlatformApplication(sns: SNSClient, physicalResourceId: string): Promise<void> {
  if (!isPlatformApplicationArn(physicalResourceId)) return;
  try {
    await callSns(`DeletePlatformApplication ${physicalResourceId}`, {}, () =>
      sns.send(new DeletePlatformApplicationCommand({ PlatformApplicationArn: physicalResourceId })),
    );
  } catch (error) {
    if ((error as { snsErrorName?: string }).snsErrorName === 'NotFoundException') return;
    throw error;
  }
}

export function isPlatformApplicationArn(id: string): boolean {
  return PLATFORM_APPLICATION_ARN.test(id);
}

export function isPlatformKey(value: unknown): value is PlatformKey {
  return typeof value === 'string' && (PLATFORM_KEYS as readonly string[]).includes(value);
}

/** Checks the optional attributes' shapes; these are ARNs and a percentage, not secrets, so errors show them. */
export function validateOptions(options: PlatformApplicationOptions): void {
  const rate = options.SuccessFeedbackSampleRate;
  if (rate !== undefined && !/^(100|[1-9]?[0-9])$/.test(rate)) {
    throw new Error(`SuccessFeedbackSampleRate must be an integer from 0 to 100 (given "${rate}")`);
  }
  for (const key of ['SuccessFeedbackRoleArn', 'FailureFeedbackRoleArn'] as const) {
    const arn = options[key];
    if (arn !== undefined && !/^arn:[a-z-]+:iam::\d{12}:role\/\S+$/.test(arn)) {
      throw new Error(`${key} must be an IAM role ARN (given "${arn}")`);
    }
  }
  for (const key of ['EventEndpointCreated', 'EventEndpointDeleted', 'EventEndpointUpdated', 'EventDeliveryFailure'] as const) {
    const arn = options[key];
    if (arn !== undefined && !/^arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/.test(arn)) {
      throw new Error(`${key} must be an SNS topic ARN (given "${arn}")`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Secrets

type SecretKind = 'APNs' | 'FCM';

function secretKind(platform: PlatformKey): SecretKind {
  return platform === 'GCM' ? 'FCM' : 'APNs';
}

/** Reads and checks the platform's secret, and returns the SNS credential attributes (aws-notes.md §1.2). */
async function readCredentialAttributes(
  secrets: SecretsManagerClient,
  spec: PlatformApplicationSpec,
): Promise<Record<string, string>> {
  const kind = secretKind(spec.platform);
  const secretString = await readSecretString(secrets, kind, spec.secretId);
  return kind === 'APNs'
    ? apnsTokenAttributes(secretString, spec.secretId)
    : fcmAttributes(secretString, spec.secretId);
}

async function readSecretString(secrets: SecretsManagerClient, kind: SecretKind, secretId: string): Promise<string> {
  let secretString: string | undefined;
  try {
    ({ SecretString: secretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId })));
  } catch (error) {
    const name = errorName(error);
    if (name === 'ResourceNotFoundException') {
      const file = kind === 'APNs' ? 'apns.json' : 'service-account.json';
      throw new Error(
        `${kind} secret ${secretId} not found. Create it with: ` +
          `aws secretsmanager create-secret --name ${secretId} --secret-string file://${file} ` +
          `(the ${kind} secret format is in the README).`,
      );
    }
    if (name === 'AccessDeniedException') {
      throw new Error(
        `${kind} secret ${secretId}: access denied. The function needs secretsmanager:GetSecretValue on it, ` +
          'and kms:Decrypt if the secret is encrypted with a customer-managed KMS key.',
      );
    }
    // Secrets Manager errors carry ids and reasons, never the value.
    throw new Error(`${kind} secret ${secretId}: could not read it (${name}: ${(error as Error).message})`);
  }
  if (secretString === undefined || secretString === '') {
    throw new Error(`${kind} secret ${secretId}: no SecretString (store the JSON as a text secret, not binary)`);
  }
  return secretString;
}

/** Parses the secret as a JSON object. JSON.parse's own message quotes the input, so it is not passed on. */
function parseSecretObject(secretString: string, kind: SecretKind, secretId: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`${kind} secret ${secretId}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${kind} secret ${secretId}: not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Returns the field as a non-empty string, or throws naming the field (never its value). */
function requireString(secret: Record<string, unknown>, field: string, prefix: string): string {
  const value = secret[field];
  if (value === undefined || value === null || value === '') throw new Error(`${prefix}: missing "${field}"`);
  if (typeof value !== 'string') throw new Error(`${prefix}: "${field}" must be a string`);
  return value;
}

const PEM_PRIVATE_KEY = /-----BEGIN (EC |RSA )?PRIVATE KEY-----/;

function apnsTokenAttributes(secretString: string, secretId: string): Record<string, string> {
  const prefix = `APNs secret ${secretId}`;
  const secret = parseSecretObject(secretString, 'APNs', secretId);
  const signingKey = requireString(secret, 'signingKey', prefix);
  const keyId = requireString(secret, 'keyId', prefix);
  const teamId = requireString(secret, 'teamId', prefix);
  const bundleId = requireString(secret, 'bundleId', prefix);
  if (!PEM_PRIVATE_KEY.test(signingKey)) {
    throw new Error(`${prefix}: "signingKey" must be the .p8 file contents, starting "-----BEGIN PRIVATE KEY-----"`);
  }
  // Apple shows both ids as 10 characters, upper-case letters and digits.
  for (const [field, value] of [['keyId', keyId], ['teamId', teamId]] as const) {
    if (!/^[A-Z0-9]{10}$/.test(value)) {
      throw new Error(`${prefix}: "${field}" must be 10 upper-case letters or digits (${value.length} characters given)`);
    }
  }
  if (!/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(bundleId)) {
    throw new Error(`${prefix}: "bundleId" must be a bundle identifier such as com.example.app`);
  }
  return {
    PlatformCredential: signingKey,
    PlatformPrincipal: keyId,
    ApplePlatformTeamID: teamId,
    ApplePlatformBundleID: bundleId,
  };
}

function fcmAttributes(secretString: string, secretId: string): Record<string, string> {
  const prefix = `FCM secret ${secretId}`;
  const secret = parseSecretObject(secretString, 'FCM', secretId);
  const type = requireString(secret, 'type', prefix);
  if (type !== 'service_account') {
    throw new Error(`${prefix}: "type" must be "service_account" (use the Firebase service-account key file)`);
  }
  requireString(secret, 'project_id', prefix);
  requireString(secret, 'client_email', prefix);
  const privateKey = requireString(secret, 'private_key', prefix);
  if (!PEM_PRIVATE_KEY.test(privateKey)) {
    throw new Error(`${prefix}: "private_key" must be a PEM private key`);
  }
  // SNS wants the file itself (aws-notes.md §1.2), so the original string, not a re-serialization.
  return { PlatformCredential: secretString };
}

// ---------------------------------------------------------------------------------------------------
// SNS calls

function optionAttributes(options: PlatformApplicationOptions = {}): Record<string, string> {
  return Object.fromEntries(
    OPTION_NAMES.filter((key) => options[key] !== undefined).map((key) => [key, options[key] as string]),
  );
}

/**
 * Runs an SNS call and rethrows any failure as a new Error whose message names the call and SNS's
 * reason with the credential values cut out, so nothing secret can travel in an error (the SDK
 * error itself, which holds the request, is not attached).
 */
async function callSns<T>(what: string, credentials: Record<string, string>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = errorName(error);
    const message = redact(String((error as Error)?.message ?? ''), Object.values(credentials));
    throw Object.assign(new Error(`${what} failed: ${name}: ${message}`), { snsErrorName: name });
  }
}

/** Replaces each secret value, and each substantial line of it (PEM bodies), with [redacted]. */
function redact(text: string, secretValues: readonly string[]): string {
  const fragments = secretValues
    .flatMap((value) => [value, ...value.split(/\r?\n|\\n/).map((line) => line.trim())])
    .filter((fragment) => fragment.length >= 8)
    .sort((a, b) => b.length - a.length);
  return fragments.reduce((result, fragment) => result.split(fragment).join('[redacted]'), text);
}

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}
