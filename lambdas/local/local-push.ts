import { createHash, randomUUID } from 'node:crypto';
import type { PlatformApplications, PublishInput, PushGateway } from '../core/push/gateway';
import type { PlatformKey } from '../core/push/types';

/** Platform applications as local mode names them: every platform is "configured". */
export const LOCAL_PLATFORM_APPLICATIONS: PlatformApplications = {
  APNS: 'arn:aws:sns:us-east-1:000000000000:app/APNS/herald-local',
  APNS_SANDBOX: 'arn:aws:sns:us-east-1:000000000000:app/APNS_SANDBOX/herald-local',
  GCM: 'arn:aws:sns:us-east-1:000000000000:app/GCM/herald-local',
};

/** One push as SNS would have handed it to APNs or FCM. */
export interface RecordedPush {
  readonly messageId: string;
  readonly endpointArn: string;
  readonly key: PlatformKey;
  /** The platform payload (the value under APNS / APNS_SANDBOX / GCM), parsed. */
  readonly payload: Record<string, unknown>;
  /** Message attributes as plain strings (APNs headers, TTLs). */
  readonly attributes: Record<string, string>;
  readonly publishedAt: string;
}

/** Decides, per publish, whether to fail it (fault injection for tests). */
export type PublishFault = (input: PublishInput, publishNumber: number) => Error | undefined;

/**
 * Local mode's stand-in for SNS mobile push, behind the same `PushGateway` interface the delivery
 * code publishes through. It records the exact payloads and attributes per device endpoint.
 */
export class LocalPushGateway implements PushGateway {
  private publishes = 0;
  private readonly listeners: ((push: RecordedPush) => void)[] = [];
  fault?: PublishFault;

  async ensureEndpoint(platformApplicationArn: string, token: string, knownEndpointArn?: string): Promise<string> {
    if (knownEndpointArn) return knownEndpointArn;
    const [, platform, name] = /app\/([^/]+)\/(.+)$/.exec(platformApplicationArn) ?? [];
    const id = createHash('sha256').update(token).digest('hex').slice(0, 32);
    return `arn:aws:sns:us-east-1:000000000000:endpoint/${platform}/${name}/${id}`;
  }

  async publish(input: PublishInput): Promise<string> {
    this.publishes += 1;
    const failure = this.fault?.(input, this.publishes);
    if (failure) throw failure;
    const message = JSON.parse(input.Message) as Record<string, string>;
    const key = (['APNS', 'APNS_SANDBOX', 'GCM'] as const).find((candidate) => candidate in message);
    if (!key) throw new Error('publish without a platform key');
    const push: RecordedPush = {
      messageId: randomUUID(),
      endpointArn: input.TargetArn,
      key,
      payload: JSON.parse(message[key]!) as Record<string, unknown>,
      attributes: Object.fromEntries(Object.entries(input.MessageAttributes).map(([name, value]) => [name, value.StringValue])),
      publishedAt: new Date().toISOString(),
    };
    for (const listener of this.listeners) listener(push);
    return push.messageId;
  }

  /** Endpoints deleted (devices unregistered), for tests and the inbox. */
  readonly deletedEndpoints: string[] = [];

  async deleteEndpoint(endpointArn: string): Promise<void> {
    this.deletedEndpoints.push(endpointArn);
  }

  onPush(listener: (push: RecordedPush) => void): void {
    this.listeners.push(listener);
  }

  get publishCount(): number {
    return this.publishes;
  }
}
