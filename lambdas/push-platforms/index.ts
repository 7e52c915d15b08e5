/**
 * onEvent handler of the `PushPlatforms` custom resource (lib/push-platforms.ts): creates, updates
 * and deletes one SNS platform application per resource, reading its credentials from Secrets
 * Manager at run time (lambdas/core/push/platform-apps.ts).
 *
 * Resource properties: `{Name, Platform: APNS|APNS_SANDBOX|GCM, SecretId, Revision?}` plus the
 * optional attributes of `PlatformApplicationOptions`. `Revision` is not used here: changing it is
 * what makes CloudFormation send an Update, which re-reads the (rotated) secret.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  OPTION_NAMES,
  PLATFORM_APPLICATION_NAME,
  createPlatformApplication,
  deletePlatformApplication,
  isPlatformApplicationArn,
  isPlatformKey,
  updatePlatformApplication,
  type PlatformApplicationOptions,
  type PlatformApplicationSpec,
} from '../core/push/platform-apps';

export interface PushPlatformsDeps {
  readonly sns: SNSClient;
  readonly secrets: SecretsManagerClient;
  readonly logger: Logger;
}

/** What the Provider framework expects back; `Data` becomes `Fn::GetAtt` attributes. */
export interface PushPlatformsResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly PlatformApplicationArn: string };
}

export function createHandler(deps: PushPlatformsDeps) {
  const clients = { sns: deps.sns, secrets: deps.secrets };

  return async (event: CloudFormationCustomResourceEvent): Promise<PushPlatformsResponse> => {
    // Log only what identifies the request: the properties hold no secret, but nothing read from a
    // secret (nor the event as a whole) is ever logged.
    const logContext = {
      requestType: event.RequestType,
      logicalResourceId: event.LogicalResourceId,
      platform: String(event.ResourceProperties.Platform),
      name: String(event.ResourceProperties.Name),
    };

    switch (event.RequestType) {
      case 'Create': {
        const spec = parseResourceProperties(event.ResourceProperties);
        deps.logger.info('creating platform application', logContext);
        const arn = await createPlatformApplication(clients, spec);
        return created(arn);
      }
      case 'Update': {
        const spec = parseResourceProperties(event.ResourceProperties);
        const old = event.OldResourceProperties;
        // Name and Platform are part of the ARN: a new pair means a new application. Returning a new
        // physical id makes CloudFormation delete the old application once the update succeeds.
        if (spec.name !== old.Name || spec.platform !== old.Platform || !isPlatformApplicationArn(event.PhysicalResourceId)) {
          deps.logger.info('replacing platform application', logContext);
          return created(await createPlatformApplication(clients, spec));
        }
        deps.logger.info('updating platform application attributes', logContext);
        await updatePlatformApplication(clients, event.PhysicalResourceId, spec, parseOptions(old));
        return created(event.PhysicalResourceId);
      }
      case 'Delete': {
        deps.logger.info('deleting platform application', logContext);
        await deletePlatformApplication(deps.sns, event.PhysicalResourceId);
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
    }
  };
}

export const handler = createHandler({
  sns: new SNSClient({}),
  secrets: new SecretsManagerClient({}),
  logger: new Logger(),
});

function created(platformApplicationArn: string): PushPlatformsResponse {
  return { PhysicalResourceId: platformApplicationArn, Data: { PlatformApplicationArn: platformApplicationArn } };
}

/** Checks the resource properties (names and ids, never secret values, so errors may show them). */
export function parseResourceProperties(properties: Record<string, unknown>): PlatformApplicationSpec {
  const { Name: name, Platform: platform, SecretId: secretId } = properties;
  if (typeof name !== 'string' || !PLATFORM_APPLICATION_NAME.test(name)) {
    throw new Error(`Name must be 1 to 256 of A-Z a-z 0-9 _ . - (given ${JSON.stringify(name)})`);
  }
  if (!isPlatformKey(platform)) {
    throw new Error(`Platform must be APNS, APNS_SANDBOX or GCM (given ${JSON.stringify(platform)})`);
  }
  if (typeof secretId !== 'string' || secretId === '') {
    throw new Error(`SecretId must name a Secrets Manager secret (given ${JSON.stringify(secretId)})`);
  }
  return { name, platform, secretId, options: parseOptions(properties) };
}

function parseOptions(properties: Record<string, unknown>): PlatformApplicationOptions {
  const options: Record<string, string> = {};
  for (const key of OPTION_NAMES) {
    const value = properties[key];
    if (value === undefined || value === '') continue;
    // CloudFormation passes every scalar property as a string; accept a number for the sample rate.
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new Error(`${key} must be a string (given ${JSON.stringify(value)})`);
    }
    options[key] = String(value);
  }
  return options;
}
