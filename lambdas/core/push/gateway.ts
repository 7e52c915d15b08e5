import type { EndpointPublishInput } from './publish-request';
import type { PlatformKey } from './types';

/** The exact SNS Publish input Herald sends to one device's endpoint. */
export type PublishInput = EndpointPublishInput;

/**
 * Why a publish failed, as far as delivery cares:
 * - `endpoint_disabled`: the provider rejected the token; disable the device, never retry.
 * - `retryable`: throttling, a 5xx, a timeout, a disabled platform application (its credentials
 *   will be fixed); the notification is retried through SQS.
 * - `permanent`: the request itself is wrong or the endpoint is gone; retrying cannot help.
 */
export type PushFailureKind = 'endpoint_disabled' | 'retryable' | 'permanent';

export class PushError extends Error {
  constructor(
    readonly kind: PushFailureKind,
    /** The provider's error name, safe to log and store (never the token). */
    readonly reason: string,
    /**
     * A retryable failure where the request may have reached SNS (a timeout, a dropped
     * connection, a 5xx): whether the device got the push is unknown.
     */
    readonly maybeSent = false,
  ) {
    super(`${kind}: ${reason}`);
    this.name = 'PushError';
  }
}

/** The SNS platform applications configured for this deployment (absent when not configured). */
export type PlatformApplications = Partial<Record<PlatformKey, string>>;

/**
 * The one interface through which Herald talks to the push platforms: SNS mobile push in the
 * cloud, a recording transport in local mode.
 */
export interface PushGateway {
  /**
   * Creates or repairs the platform endpoint for a device token (AWS's create/get/set algorithm)
   * and returns its ARN. `knownEndpointArn` is the ARN stored from an earlier registration.
   */
  ensureEndpoint(platformApplicationArn: string, token: string, knownEndpointArn?: string): Promise<string>;
  /** Publishes to one endpoint; throws `PushError` on failure. Returns the provider's message id. */
  publish(input: PublishInput): Promise<string>;
  /** Deletes a device's endpoint (unregistering it); an endpoint already gone is not an error. */
  deleteEndpoint(endpointArn: string): Promise<void>;
}
