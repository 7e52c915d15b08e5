import {
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  GetEndpointAttributesCommand,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { PushError, type PublishInput, type PushGateway } from './gateway';

/** SNS error names that mean "try again later" (aws-notes.md §1.6). */
const RETRYABLE = new Set([
  'ThrottledException',
  'ThrottlingException',
  'InternalErrorException',
  'KMSThrottlingException',
  'PlatformApplicationDisabledException',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);

/** AWS's documented message for a create that collides with an endpoint of other attributes. */
const EXISTING_ENDPOINT = /Endpoint (arn:aws[a-z-]*:sns:\S+) already exists with the same [Tt]oken/;

export class SnsPushGateway implements PushGateway {
  constructor(private readonly sns: SNSClient = new SNSClient({})) {}

  /** AWS's recommended registration (aws-notes.md §1.5): create with the token only, then get and repair. */
  async ensureEndpoint(platformApplicationArn: string, token: string, knownEndpointArn?: string): Promise<string> {
    let endpointArn = knownEndpointArn ?? (await this.createEndpoint(platformApplicationArn, token));
    let attributes = await this.getAttributes(endpointArn);
    if (!attributes) {
      endpointArn = await this.createEndpoint(platformApplicationArn, token);
      attributes = await this.getAttributes(endpointArn);
    }
    // A create that found a disabled endpoint "succeeds but does not enable" it.
    if (!attributes || attributes.Token !== token || attributes.Enabled === 'false') {
      await this.sns.send(
        new SetEndpointAttributesCommand({ EndpointArn: endpointArn, Attributes: { Token: token, Enabled: 'true' } }),
      );
    }
    return endpointArn;
  }

  async publish(input: PublishInput): Promise<string> {
    try {
      const result = await this.sns.send(new PublishCommand(input));
      return result.MessageId ?? '';
    } catch (error) {
      throw classifyPublishError(error);
    }
  }

  async deleteEndpoint(endpointArn: string): Promise<void> {
    // SNS answers DeleteEndpoint for a deleted endpoint with success: it is idempotent.
    await this.sns.send(new DeleteEndpointCommand({ EndpointArn: endpointArn }));
  }

  private async createEndpoint(platformApplicationArn: string, token: string): Promise<string> {
    try {
      const result = await this.sns.send(
        new CreatePlatformEndpointCommand({ PlatformApplicationArn: platformApplicationArn, Token: token }),
      );
      return result.EndpointArn!;
    } catch (error) {
      const existing = EXISTING_ENDPOINT.exec((error as Error).message ?? '');
      if ((error as Error).name === 'InvalidParameterException' && existing) return existing[1]!;
      throw error;
    }
  }

  private async getAttributes(endpointArn: string): Promise<Record<string, string> | undefined> {
    try {
      const result = await this.sns.send(new GetEndpointAttributesCommand({ EndpointArn: endpointArn }));
      return result.Attributes ?? {};
    } catch (error) {
      if ((error as Error).name === 'NotFoundException') return undefined;
      throw error;
    }
  }
}

export function classifyPublishError(error: unknown): PushError {
  const name = (error as Error | undefined)?.name ?? 'UnknownError';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (name === 'EndpointDisabledException') return new PushError('endpoint_disabled', name);
  // No status: the request failed on the way (timeout, reset); a 5xx: SNS failed midway. Either way
  // the push may have gone out. A 4xx (throttling) means SNS refused it.
  const maybeSent = status === undefined || status >= 500;
  if (RETRYABLE.has(name) || maybeSent || status === 429) return new PushError('retryable', name, maybeSent);
  return new PushError('permanent', name);
}
