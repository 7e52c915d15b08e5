import type { Notification } from '../notification';
import { buildApnsPayload } from './apns';
import { shortenText } from './budget';
import { buildFcmPayload } from './fcm';
import type { ApnsEnvironment, DevicePlatform, MessageAttribute, PlatformPayload, PushPresentation } from './types';

/** The `default` text is read only by non-mobile subscribers; keep it short. */
export const DEFAULT_MESSAGE_MAX_CHARS = 200;

/** Where one device is reached: its SNS platform endpoint and, on iOS, the APNs environment. */
export interface PushTarget {
  readonly platform: DevicePlatform;
  /** iOS only. Default: `production`. A sandbox (development build) token needs `APNS_SANDBOX`. */
  readonly environment?: ApnsEnvironment;
  readonly endpointArn: string;
}

/** The SNS `Publish` input for one endpoint; structurally an `@aws-sdk/client-sns` PublishCommandInput. */
export interface EndpointPublishInput {
  readonly TargetArn: string;
  readonly MessageStructure: 'json';
  readonly Message: string;
  readonly MessageAttributes: Readonly<Record<string, MessageAttribute>>;
}

export interface PublishRequest {
  /** Pass as is to `new PublishCommand(input)`. */
  readonly input: EndpointPublishInput;
  /** True when the platform payload was shortened to fit the 4 KB budget. */
  readonly truncated: boolean;
}

/**
 * Builds the SNS `Publish` input that pushes `notification` to one device endpoint
 * (aws-notes.md §1.3): `MessageStructure: 'json'`, and a `Message` whose values are strings: a
 * short `default` text, and the platform payload under its key (`APNS`, `APNS_SANDBOX` or `GCM`)
 * as escaped JSON text. The reserved attributes carry the APNs headers and the TTL (§1.4).
 *
 * `presentation` is `passive` during the bucket's quiet hours or snooze (see quiet-hours.ts): a
 * NORMAL notification then arrives without sound or banner; CRITICAL and SILENT ignore it.
 *
 * Throws on a NO_PUSH notification: delivery must filter those out before it gets here.
 */
export function buildPublishInput(notification: Notification, target: PushTarget, presentation: PushPresentation = 'alert'): PublishRequest {
  if (notification.deliveryType === 'NO_PUSH') {
    throw new Error(`notification ${notification.id} is NO_PUSH and must not be published to a device`);
  }
  const platformPayload = buildPlatformPayload(notification, target, presentation);
  const message = {
    default: defaultText(notification),
    [platformPayload.key]: platformPayload.payload,
  };
  return {
    input: {
      TargetArn: target.endpointArn,
      MessageStructure: 'json',
      Message: JSON.stringify(message),
      MessageAttributes: platformPayload.attributes,
    },
    truncated: platformPayload.truncated,
  };
}

function buildPlatformPayload(notification: Notification, target: PushTarget, presentation: PushPresentation): PlatformPayload {
  switch (target.platform) {
    case 'ios':
      return buildApnsPayload(notification, target.environment ?? 'production', presentation);
    case 'android':
      return buildFcmPayload(notification, presentation);
  }
}

/** "Title: body", cut to {@link DEFAULT_MESSAGE_MAX_CHARS} code points; the title alone without a body. */
function defaultText(notification: Notification): string {
  const text = notification.body ? `${notification.title}: ${notification.body}` : notification.title;
  return shortenText(text, DEFAULT_MESSAGE_MAX_CHARS);
}
